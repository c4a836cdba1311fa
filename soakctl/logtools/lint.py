"""Streaming log lint: every non-ASCII byte (``file:line:col``) and every line over a length limit.

Memory stays constant whatever the file: the file is mapped and walked in fixed windows whose
pages are dropped (``MADV_DONTNEED``) as soon as a window is done, or, where mapping is not
possible (pipes, Windows), read into one reused buffer. Each window costs a handful of numpy
passes that run at memory speed: ``max() < 128`` proves a window ASCII, ``arr == 10`` counts its
newlines, and a block test proves it holds no over-long line without locating every newline
(a run of more than ``N`` non-newline bytes must cover one whole block of ``N // 2 + 1`` bytes,
so if every block holds a newline there is none). Exact positions are computed only for windows
that fail a test, while findings are still being collected.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from soakctl.errors import InputError, UsageError
from soakctl.logtools import DEFAULT_MAX_FINDINGS, DEFAULT_MAX_LINE_LENGTH

WINDOW_BYTES = 2 << 20  # big enough to amortise per-window cost, small enough for cache and RSS
_NEWLINE = 10

FindingKind = Literal["non_ascii", "long_line"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at ``path:line:col`` (1-based; ``col`` counts bytes)."""

    path: str
    line: int
    col: int
    kind: FindingKind
    byte: int | None = None  # the offending byte, for non_ascii
    length: int | None = None  # the line's length in bytes, for long_line

    def message(self, max_line_length: int) -> str:
        if self.kind == "non_ascii":
            return f"non-ASCII byte 0x{self.byte or 0:02x}"
        return f"line is {self.length} bytes long (limit {max_line_length})"


@dataclass(slots=True)
class FileStats:
    """What was scanned in one file, counted over the whole file (not capped)."""

    path: str
    size_bytes: int = 0
    lines: int = 0
    non_ascii_bytes: int = 0
    long_lines: int = 0


@dataclass(slots=True)
class LintResult:
    """Per-file counts and the first ``max_findings`` findings over all files, in file order."""

    max_line_length: int
    files: list[FileStats] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.non_ascii_bytes or f.long_lines for f in self.files)

    @property
    def total_findings(self) -> int:
        return sum(f.non_ascii_bytes + f.long_lines for f in self.files)


class _Scanner:
    """The state carried from one window to the next while walking one file."""

    def __init__(
        self, stats: FileStats, limit: int, findings: list[Finding], cap: int, window_bytes: int
    ) -> None:
        self.stats = stats
        self.limit = limit
        self.findings = findings
        self.cap = cap
        self.block = limit // 2 + 1
        self.carry = 0  # bytes of the current (unfinished) line seen so far
        self.eq = np.empty(max(window_bytes, mmap.PAGESIZE), dtype=np.bool_)

    def _want(self) -> bool:
        return len(self.findings) < self.cap

    def _long_line(self, line_index: int, length: int) -> None:
        self.stats.long_lines += 1
        if self._want():
            self.findings.append(
                Finding(self.stats.path, line_index + 1, self.limit + 1, "long_line", length=length)
            )

    def window(self, arr: npt.NDArray[np.uint8]) -> None:
        n = len(arr)
        eq = self.eq[:n]
        np.equal(arr, _NEWLINE, out=eq)
        newlines = int(np.count_nonzero(eq))
        if int(arr.max()) >= 0x80:
            self._non_ascii(arr, eq)
        if newlines == 0:
            self.carry += n
        elif self._may_have_long_line(eq, n):
            self._exact_lines(eq)
        else:
            # Every block holds a newline, so the first and last are within two blocks of the
            # ends (a reversed argmax would scan the whole window with no fast path).
            first = int(eq[: 2 * self.block].argmax())
            tail = max(0, n - 2 * self.block)
            last = tail + int(np.flatnonzero(eq[tail:])[-1])
            if self.carry + first > self.limit:
                self._long_line(self.stats.lines, self.carry + first)
            self.carry = n - last - 1
        self.stats.lines += newlines

    def _may_have_long_line(self, eq: npt.NDArray[np.bool_], n: int) -> bool:
        # A line of more than ``limit`` bytes lying inside the window covers a whole block; the
        # first and last (partial) lines are checked through ``carry`` instead.
        blocks = n // self.block
        if blocks == 0:
            return False
        covered = eq[: blocks * self.block].reshape(blocks, self.block).any(axis=1)
        return not bool(covered.all())

    def _exact_lines(self, eq: npt.NDArray[np.bool_]) -> None:
        positions = np.flatnonzero(eq)
        starts = np.empty(len(positions), dtype=np.int64)
        starts[0] = -1 - self.carry
        starts[1:] = positions[:-1]
        lengths = positions - starts - 1
        for index in np.flatnonzero(lengths > self.limit):
            self._long_line(self.stats.lines + int(index), int(lengths[index]))
        self.carry = len(eq) - int(positions[-1]) - 1

    def _non_ascii(self, arr: npt.NDArray[np.uint8], eq: npt.NDArray[np.bool_]) -> None:
        high = arr >= 0x80
        self.stats.non_ascii_bytes += int(np.count_nonzero(high))
        room = self.cap - len(self.findings)
        if room <= 0:
            return
        where = np.flatnonzero(high)[:room]
        newlines = np.flatnonzero(eq)
        before = np.searchsorted(newlines, where)  # newlines in this window before each byte
        for pos, count in zip(where.tolist(), before.tolist(), strict=True):
            col = pos - int(newlines[count - 1]) if count else self.carry + pos + 1
            self.findings.append(
                Finding(
                    self.stats.path,
                    self.stats.lines + count + 1,
                    col,
                    "non_ascii",
                    byte=int(arr[pos]),
                )
            )

    def finish(self) -> None:
        if self.carry:
            if self.carry > self.limit:
                self._long_line(self.stats.lines, self.carry)
            self.stats.lines += 1


def _scan_mapped(fd: int, size: int, scanner: _Scanner, window_bytes: int) -> None:
    step = max(mmap.PAGESIZE, window_bytes - window_bytes % mmap.PAGESIZE)  # madvise wants pages
    mapped = mmap.mmap(fd, size, access=mmap.ACCESS_READ)
    whole = np.frombuffer(mapped, dtype=np.uint8)
    try:
        mapped.madvise(mmap.MADV_SEQUENTIAL)
        for offset in range(0, size, step):
            scanner.window(whole[offset : offset + step])
            # Drop the window's pages from our RSS; they stay in the page cache.
            mapped.madvise(mmap.MADV_DONTNEED, offset, min(step, size - offset))
    finally:
        del whole  # release the buffer export, or the map cannot close
        mapped.close()


def _scan_read(fd: int, scanner: _Scanner, window_bytes: int) -> None:
    buffer = bytearray(window_bytes)
    with os.fdopen(os.dup(fd), "rb", buffering=0) as stream:
        while count := stream.readinto(buffer):
            scanner.window(np.frombuffer(buffer, dtype=np.uint8, count=count))


def lint_file(
    path: Path,
    result: LintResult,
    *,
    max_findings: int = DEFAULT_MAX_FINDINGS,
    window_bytes: int = WINDOW_BYTES,
    use_mmap: bool = True,
) -> FileStats:
    """Scan one file, appending its counts and (room permitting) findings to ``result``.

    ``use_mmap=False`` (or a file that cannot be mapped: a pipe, Windows) reads into one reused
    buffer instead: slower (one more copy), same results.
    """
    stats = FileStats(str(path))
    scanner = _Scanner(stats, result.max_line_length, result.findings, max_findings, window_bytes)
    start = len(result.findings)
    with path.open("rb", buffering=0) as stream:
        fd = stream.fileno()
        stats.size_bytes = os.fstat(fd).st_size
        mappable = use_mmap and hasattr(mmap, "MADV_DONTNEED") and path.is_file()
        if stats.size_bytes and mappable:
            _scan_mapped(fd, stats.size_bytes, scanner, window_bytes)
        else:
            _scan_read(fd, scanner, window_bytes)
    scanner.finish()
    result.findings[start:] = sorted(result.findings[start:], key=lambda f: (f.line, f.col))
    result.files.append(stats)
    return stats


def lint_paths(
    paths: list[Path],
    *,
    max_line_length: int = DEFAULT_MAX_LINE_LENGTH,
    max_findings: int = DEFAULT_MAX_FINDINGS,
    window_bytes: int = WINDOW_BYTES,
    use_mmap: bool = True,
) -> LintResult:
    """Lint files in order; the caller has already expanded directories (see ``log_files``)."""
    if max_line_length < 1:
        raise UsageError(f"--max-line-length must be at least 1, got {max_line_length}")
    result = LintResult(max_line_length=max_line_length)
    for path in paths:
        try:
            lint_file(
                path,
                result,
                max_findings=max_findings,
                window_bytes=window_bytes,
                use_mmap=use_mmap,
            )
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return result
