"""Supervised processes' stdout/stderr: soakctl owns the pipes and is the only writer.

Each process gets one :class:`RotatingLogFile` (``logs/<name>.log``) fed by one pump thread per
pipe. Whole lines go in under a lock, so stdout and stderr lines never interleave inside a line
and rotation happens only between lines: nothing is lost, split or duplicated. Rotation closes
the active file before renaming it (Windows cannot rename an open file) and shifts
``<name>.log.1`` (newest) .. ``<name>.log.N`` (oldest), overwriting the oldest; ``keep`` bounds N.
The rotation callback is told which file ``keep`` dropped (None if none), so every rotated file is
accounted for: still on disk, dropped by ``keep``, or pruned by the disk guard.
Python's ``RotatingFileHandler`` is not used: it loses lines with several writers and fails on
Windows renames of open files. A line longer than ``max_line_bytes`` is written in chunks,
which is the one case where a line may be split (and interleaved). A write that fails (disk
full, file size limit) closes the file cut back to its last whole line and sets ``write_error``;
later lines are counted in ``dropped_lines`` and the pipes keep draining, so the target never
blocks on a full pipe while the runner stops the run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, BinaryIO

from soakctl.errors import WriteFailed

logger = logging.getLogger(__name__)

MAX_LINE_BYTES = 1 << 20


class RotatingLogFile:
    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int,
        keep: int,
        on_rotate: Callable[[Path, int, Path | None], None] | None = None,
    ) -> None:
        self.path = path
        self.max_bytes = max(1, max_bytes)
        self.keep = max(1, keep)
        self._on_rotate = on_rotate
        self._lock = threading.Lock()
        self._file: BinaryIO | None = open(path, "ab", buffering=256 * 1024)  # noqa: SIM115
        self._size = path.stat().st_size
        self._rotated_bytes = sum(p.stat().st_size for p in self.rotated_files())
        self.lines = 0
        self.dropped_lines = 0
        self.write_error: WriteFailed | None = None
        self._dirty = False

    def rotated_files(self) -> list[Path]:
        """Existing rotated files, newest first."""
        found = []
        for i in range(1, self.keep + 1):
            candidate = self.path.with_name(f"{self.path.name}.{i}")
            if candidate.exists():
                found.append(candidate)
        return found

    @property
    def total_bytes(self) -> int:
        return self._size + self._rotated_bytes

    def write(self, data: bytes) -> None:
        """Append one line (or one chunk of an over-long line); rotate first if it won't fit."""
        with self._lock:
            if self._file is None:
                self.dropped_lines += self.write_error is not None
                return
            try:
                if self._size > 0 and self._size + len(data) > self.max_bytes:
                    self._rotate()
                assert self._file is not None
                self._file.write(data)
            except OSError as exc:
                self._fail(exc)
                return
            self._size += len(data)
            self.lines += 1
            self._dirty = True

    def _fail(self, exc: OSError) -> None:
        """Stop writing: close, cut the file back to its last whole line, remember why."""
        self.write_error = WriteFailed(self.path, exc)
        self.dropped_lines += 1
        if self._file is not None:
            with contextlib.suppress(OSError, ValueError):
                self._file.close()
            self._file = None
        with contextlib.suppress(OSError), open(self.path, "r+b") as fh:
            size = fh.seek(0, os.SEEK_END)
            tail_from = max(0, size - MAX_LINE_BYTES)
            fh.seek(tail_from)
            tail = fh.read()
            cut = tail.rfind(b"\n")
            fh.truncate(tail_from + cut + 1 if cut >= 0 else tail_from)

    def _rotate(self) -> None:
        assert self._file is not None
        self._file.close()
        rotated = self._size
        oldest = self.path.with_name(f"{self.path.name}.{self.keep}")
        dropped = oldest if oldest.exists() else None
        for i in range(self.keep - 1, 0, -1):
            src = self.path.with_name(f"{self.path.name}.{i}")
            if src.exists():
                os.replace(src, self.path.with_name(f"{self.path.name}.{i + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self._file = open(self.path, "ab", buffering=256 * 1024)  # noqa: SIM115
        self._size = 0
        self._rotated_bytes = sum(p.stat().st_size for p in self.rotated_files())
        if self._on_rotate is not None:
            self._on_rotate(self.path, rotated, dropped)

    def prune_oldest(self) -> Path | None:
        """Delete the oldest rotated file (the disk guard's relief valve); None if there is none."""
        with self._lock:
            files = self.rotated_files()
            if not files:
                return None
            oldest = files[-1]
            size = oldest.stat().st_size
            oldest.unlink()
            self._rotated_bytes -= size
            return oldest

    def flush(self) -> None:
        """Push buffered lines to the OS; free when nothing was written since the last flush."""
        if not self._dirty:
            return
        with self._lock:
            if self._file is not None:
                try:
                    self._file.flush()
                except OSError as exc:
                    self._fail(exc)
            self._dirty = False

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                try:
                    self._file.close()
                except OSError as exc:
                    self._fail(exc)
                self._file = None


class PipePump(threading.Thread):
    """Copies one pipe into a log file, line by line, until EOF."""

    def __init__(self, stream: IO[bytes], log: RotatingLogFile, label: str) -> None:
        super().__init__(name=f"pump-{label}", daemon=True)
        self._stream = stream
        self._log = log

    def run(self) -> None:
        readline = self._stream.readline
        write = self._log.write
        try:
            while True:
                line = readline(MAX_LINE_BYTES)
                if not line:
                    break
                write(line)
        except (OSError, ValueError) as exc:  # pipe closed under us at shutdown
            logger.debug("pump %s stopped: %s", self.name, exc)
        finally:
            with contextlib.suppress(OSError):
                self._stream.close()
