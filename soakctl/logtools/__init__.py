"""Log tools behind ``soakctl logs``: the streaming lint core and the rotated-file cleaner.

:mod:`soakctl.logtools.lint` scans, :mod:`soakctl.logtools.clean` prunes rotations; both
return data and never print (``soakctl/cli/logs_cmd.py`` renders). This package module stays
light (no numpy) so the CLI can import it at start-up; ``log_files`` expands the directories a
user names into the log files inside them.
"""

from __future__ import annotations

from pathlib import Path

from soakctl.errors import UsageError

DEFAULT_MAX_LINE_LENGTH = 10_000  # bytes; a longer log line is usually a dumped payload
DEFAULT_MAX_FINDINGS = 100
DEFAULT_MIN_AGE_S = 10.0  # logs clean never removes a file modified more recently


def is_log_name(name: str) -> bool:
    """``x.log`` or a rotated ``x.log.N``."""
    stem, _, index = name.rpartition(".log.")
    return name.endswith(".log") or bool(stem and index.isdigit())


def log_files(paths: list[Path]) -> list[Path]:
    """Files as given; directories expanded (recursively, sorted) to the log files inside them."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_log_name(p.name)))
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or directory")
    return found
