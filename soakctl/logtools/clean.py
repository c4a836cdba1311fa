"""``logs clean``: keep the N newest rotated files of each log in a directory, remove the rest.

Rotation naming is ``<name>.log`` (active) and ``<name>.log.1`` (newest) … ``<name>.log.N``
(docs/run-files.md). The active file is never touched, and neither is a rotated file modified
in the last ``min_age_s`` seconds or held open for writing by any process we can see: a writer
that has not finished renaming or flushing must not lose data. "Newest" is by modification
time, the rotation index breaking ties (a lower index is newer).
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from soakctl.logtools import DEFAULT_MIN_AGE_S

logger = logging.getLogger(__name__)

ROTATED = re.compile(r"^(?P<name>.+\.log)\.(?P<index>\d+)$")


@dataclass(frozen=True, slots=True)
class Removal:
    path: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class Kept:
    path: str
    reason: str  # "newest", "recently modified", "open for writing"


@dataclass(slots=True)
class CleanResult:
    removed: list[Removal] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def freed_bytes(self) -> int:
        return sum(r.size_bytes for r in self.removed)


def files_open_for_writing(directory: Path) -> set[Path]:
    """Files under ``directory`` that some visible process holds open for writing or appending."""
    root = directory.resolve()
    held: set[Path] = set()
    for proc in psutil.process_iter():
        try:
            for item in proc.open_files():
                path = Path(item.path)
                if path.parent == root and getattr(item, "mode", "w") != "r":
                    held.add(path)
        except (psutil.Error, OSError):  # gone, forbidden or a zombie: nothing we can use
            continue
    return held


def _rotation_groups(directory: Path) -> dict[str, list[tuple[Path, int]]]:
    groups: dict[str, list[tuple[Path, int]]] = {}
    for entry in directory.iterdir():
        match = ROTATED.match(entry.name)
        if match and entry.is_file() and not entry.is_symlink():
            groups.setdefault(match["name"], []).append((entry, int(match["index"])))
    return groups


def clean_logs(
    directory: Path,
    keep: int,
    *,
    min_age_s: float = DEFAULT_MIN_AGE_S,
    dry_run: bool = False,
    now: float | None = None,
) -> CleanResult:
    """Remove all but the ``keep`` newest rotated files of every log in ``directory``."""
    result = CleanResult()
    current = time.time() if now is None else now
    held = files_open_for_writing(directory)
    for _name, members in sorted(_rotation_groups(directory).items()):
        dated = [(path, index, path.stat()) for path, index in members]
        dated.sort(key=lambda item: (-item[2].st_mtime, item[1]))
        for position, (path, _index, stat) in enumerate(dated):
            if position < keep:
                result.kept.append(Kept(str(path), "newest"))
            elif current - stat.st_mtime < min_age_s:
                result.kept.append(Kept(str(path), "recently modified"))
            elif path.resolve() in held:
                result.kept.append(Kept(str(path), "open for writing"))
            else:
                _remove(path, stat.st_size, dry_run, result)
    return result


def _remove(path: Path, size_bytes: int, dry_run: bool, result: CleanResult) -> None:
    if not dry_run:
        try:
            os.remove(path)
        except FileNotFoundError:  # rotated away by the writer meanwhile: nothing to do
            return
        except OSError as exc:
            result.errors.append(f"{path}: cannot remove: {exc.strerror}")
            return
    logger.debug("removed %s (%d bytes)", path, size_bytes)
    result.removed.append(Removal(str(path), size_bytes))
