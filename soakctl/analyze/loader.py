"""Streaming loader of ``resources.jsonl`` into numeric columns (docs/run-files.md §4).

The file is read in fixed-size blocks cut at the last newline, so memory stays bounded by the
columns (8 bytes per value) plus one block: an over-long line (> ``MAX_LINE_BYTES``) is rejected
as soon as it passes the limit, without being materialised. Each block of complete lines goes
through three paths, each taken only when the one before refuses the block:

1. ``soakctl.analyze.block_decoder`` decodes the whole block with msgspec into typed records
   and one float64 matrix (no dict per line); it accepts only blocks that are clean;
2. ``map(orjson.loads, lines)`` into dicts, and rows with identical keys become a matrix in one
   numpy call;
3. line by line, which names the file, line and key that are wrong.

The rules below hold whichever path reads a block (tests/unit/analyze compares them).

Decisions (documented in docs/soak-criteria.md):

* a line that is not JSON, not an object, lacks ``ts``/``rss_bytes``, or carries a non-number,
  an infinity or a negative value in a sample field (docs/run-files.md §4) is an ``InputError``
  (exit 2) naming ``file:line`` and the key; ``metrics`` values may be negative (gauges),
  non-numbers are dropped;
* the last line without a trailing newline that does not parse (the sampler was killed while
  writing) is skipped with a warning;
* blank lines are ignored; samples out of order are sorted and duplicate timestamps keep their
  first sample, both with a warning;
* no valid sample at all is an ``InputError``.

A sample line looks like::

    {"ts": 1780000000.0, "elapsed_s": 1.0, "name": "target", "pid": 4242, "num_procs": 2,
     "rss_bytes": 52428800, "vms_bytes": 104857600, "cpu_percent": 12.5, "num_threads": 9,
     "num_fds": 14, "zombies": 0, "restarts": 0, "metrics": {"mmbot_open_orders": 4}}
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from soakctl.analyze.block_decoder import decode_block
from soakctl.contracts import SAMPLE_NUMERIC, SAMPLE_REQUIRED
from soakctl.errors import InputError
from soakctl.platform import release_free_heap

MAX_LINE_BYTES = 1 << 20
BLOCK_BYTES = 1 << 20  # ~2,000 lines per batch: parsed objects stay a few MB
MAX_METRIC_SERIES = 200

# The sample's numeric fields, all non-negative, and the required ones (soakctl.contracts.Sample).
NUMERIC_FIELDS: tuple[str, ...] = SAMPLE_NUMERIC
REQUIRED_FIELDS: tuple[str, ...] = SAMPLE_REQUIRED
_KNOWN = frozenset(NUMERIC_FIELDS)

Warn = Callable[[str], None]


@dataclass
class Samples:
    """Columns of one ``resources.jsonl``, sorted by ``ts``; NaN marks a missing value."""

    path: Path
    columns: dict[str, np.ndarray]
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.columns["ts"].size)

    def series(self, name: str) -> np.ndarray | None:
        """The column ``name`` (``metrics.X`` for a scraped metric), or None when absent."""
        if name.startswith("metrics."):
            return self.metrics.get(name[len("metrics."):])
        return self.columns.get(name)


@dataclass
class _Batch:
    """Complete lines (each ending with a newline): the first ``size`` bytes of ``buffer``."""

    first_lineno: int
    buffer: bytearray  # the reader's buffer, reused: valid until the next batch is read
    size: int

    @property
    def data(self) -> memoryview:
        return memoryview(self.buffer)[:self.size]

    @cached_property
    def newlines(self) -> np.ndarray:
        """Offsets of the newlines (numpy finds bytes several times faster than a loop)."""
        return np.flatnonzero(np.frombuffer(self.buffer, np.uint8, self.size) == ord("\n"))

    @cached_property
    def lines(self) -> list[bytes]:
        return bytes(self.data).split(b"\n")[:-1]


def _batches(path: Path, fh: Any) -> Iterator[tuple[_Batch, bytes | None]]:
    """Yield complete-line batches; the final unterminated fragment comes with the last batch.

    Blocks are read into one buffer, reused: a batch is valid until the next one is read (the
    loader consumes each before asking for the next), and no block is allocated or copied.
    """
    buffer = bytearray(MAX_LINE_BYTES + BLOCK_BYTES)
    view = memoryview(buffer)
    carry = 0  # bytes of an unfinished line at the start of the buffer
    lineno = 1
    while got := fh.readinto(view[carry:carry + BLOCK_BYTES]):
        size = carry + got
        end = buffer.rfind(b"\n", 0, size) + 1
        batch = _Batch(lineno, buffer, end)
        if size - end > MAX_LINE_BYTES:
            at = lineno + batch.newlines.size
            raise InputError(f"{path}:{at}: line longer than {MAX_LINE_BYTES} bytes")
        if end:
            _check_line_lengths(path, batch)
            yield batch, None
            lineno += batch.newlines.size
        carry = size - end
        buffer[:carry] = buffer[end:size]
    fragment = bytes(buffer[:carry])
    yield _Batch(lineno, bytearray(), 0), fragment if fragment.strip() else None


def _check_line_lengths(path: Path, batch: _Batch) -> None:
    """Refuse a line over ``MAX_LINE_BYTES`` (newline excluded), naming the first one."""
    too_long = np.flatnonzero(np.diff(batch.newlines, prepend=-1) - 1 > MAX_LINE_BYTES)
    if too_long.size:
        at = batch.first_lineno + int(too_long[0])
        raise InputError(f"{path}:{at}: line longer than {MAX_LINE_BYTES} bytes")


def _slow_objects(path: Path, batch: _Batch) -> list[dict[str, Any]]:
    """Parse line by line so the first bad line is named precisely."""
    out: list[dict[str, Any]] = []
    for offset, raw in enumerate(batch.lines):
        if not raw.strip():
            continue
        lineno = batch.first_lineno + offset
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise InputError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
        _check_object(path, lineno, obj)
        out.append(obj)
    return out


def _check_object(path: Path, lineno: int, obj: dict[str, Any]) -> None:
    for key in REQUIRED_FIELDS:
        if key not in obj or obj[key] is None:
            raise InputError(f"{path}:{lineno}: missing required key {key!r}")
    for key, value in obj.items():
        if key not in _KNOWN or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{path}:{lineno}: {key} must be a number, got {value!r:.40}")
        if not np.isfinite(value) or value < 0 or (key == "ts" and value == 0):
            raise InputError(f"{path}:{lineno}: {key} must be a finite non-negative number, "
                             f"got {value!r}")
    metrics = obj.get("metrics")
    if metrics is not None and not isinstance(metrics, dict):
        raise InputError(f"{path}:{lineno}: metrics must be an object")


def _fast_objects(batch: _Batch) -> list[dict[str, Any]] | None:
    lines = list(filter(None, batch.lines))
    try:
        objs = list(map(orjson.loads, lines))
    except orjson.JSONDecodeError:
        return None
    if objs and set(map(type, objs)) != {dict}:
        return None
    return objs


class _Growing:
    """Columns in large preallocated buffers that grow by doubling.

    Many small per-batch chunks joined at the end would need twice the memory at the join, and
    the freed chunks stay in the C heap; large buffers are mapped and unmapped whole, and pages
    of the spare capacity are never touched, so they cost no resident memory.

    The buffers are anonymous mappings of our own rather than ``np.empty``: numpy asks Linux
    for transparent huge pages on large arrays, which rounds the written end of every column
    up to 2 MiB (some 20 MiB over a file's columns); here pages are 4 KiB.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(capacity, 1024)
        self.buffers: dict[str, np.ndarray] = {}

    def put(self, key: str, start: int, col: np.ndarray) -> None:
        buf = self.buffers.get(key)
        if buf is None:
            buf = _lazy_buffer(self.capacity)
            buf[:start] = np.nan
            self.buffers[key] = buf
        buf[start:start + col.size] = col

    def ensure(self, filled: int, rows: int) -> None:
        """Room for ``rows`` rows; the first ``filled`` are copied when the buffers move."""
        if rows <= self.capacity:
            return
        self.capacity = max(2 * self.capacity, rows)
        for key, old in self.buffers.items():
            buf = _lazy_buffer(self.capacity)
            buf[:filled] = old[:filled]
            self.buffers[key] = buf

    def result(self, rows: int) -> dict[str, np.ndarray]:
        return {k: v[:rows] for k, v in self.buffers.items()}


def _lazy_buffer(rows: int) -> np.ndarray:
    """``rows`` float64 (zero) in an anonymous mapping: memory only for the pages written."""
    return np.frombuffer(mmap.mmap(-1, rows * 8), dtype=np.float64)


class _Columns:
    """Accumulates validated batches into growing column buffers."""

    def __init__(self, expected_rows: int) -> None:
        self.fields = _Growing(expected_rows)
        self.metrics = _Growing(expected_rows)
        self.rows = 0

    def add_block(self, batch: _Batch) -> bool:
        """Append a batch through the fast decoder; False when it needs the general path
        (``add`` on the parsed objects, then line by line)."""
        block = decode_block(batch.data, batch.newlines)
        if block is None:
            return False
        return block.rows == 0 or self._append(block.rows, block.columns, block.metrics)

    def add(self, objs: list[dict[str, Any]]) -> bool:
        """Append a batch; False when a value is unusable (the caller re-checks line by line)."""
        arrays = _uniform_columns(objs, _KNOWN)
        if arrays is None:
            arrays = _general_columns(objs)
        if arrays is None:
            return False
        return self._append(len(objs), arrays, list(map(dict.get, objs, repeat("metrics"))))

    def _append(self, n: int, arrays: dict[str, np.ndarray], metrics: list[Any]) -> bool:
        if not all(k in arrays for k in REQUIRED_FIELDS):
            return False
        for key, col in arrays.items():
            with np.errstate(invalid="ignore"):
                if np.any(col < 0) or np.any(np.isinf(col)):
                    return False
            if key in REQUIRED_FIELDS and np.isnan(col).any():
                return False
        if np.any(arrays["ts"] == 0):
            return False
        if not set(map(type, metrics)) <= {dict, type(None)}:
            return False
        self.fields.ensure(self.rows, self.rows + n)
        self.metrics.ensure(self.rows, self.rows + n)
        missing = np.full(n, np.nan)
        for key in _union(self.fields.buffers, arrays):
            self.fields.put(key, self.rows, arrays.get(key, missing))
        self._add_metrics(metrics, missing)
        self.rows += n
        return True

    def _add_metrics(self, metrics: list[Any], missing: np.ndarray) -> None:
        present = list(filter(None, metrics))
        if not present and not self.metrics.buffers:
            return
        arrays = _uniform_columns(metrics, None) if len(present) == len(metrics) else None
        if arrays is None:
            arrays = _general_metric_columns(metrics, present)
        for name in _union(self.metrics.buffers, arrays):
            if name not in self.metrics.buffers and len(self.metrics.buffers) >= MAX_METRIC_SERIES:
                continue
            col = arrays.get(name, missing)
            self.metrics.put(name, self.rows, np.where(np.isfinite(col), col, np.nan))


def _union(known: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The keys of both, in first-seen order (the columns' order, and which metrics fit the cap,
    must not depend on the hash seed)."""
    return [*known, *(k for k in new if k not in known)]


def _uniform_columns(
    objs: list[Any], known: frozenset[str] | None
) -> dict[str, np.ndarray] | None:
    """Fast path for the common batch where every object has the same keys (one writer).

    ``objs`` are all dicts (the callers checked). ``itemgetter`` pulls all fields of a row in C
    and numpy converts the rows at once; None sends the batch to the general path (mixed keys,
    strings, nested values).
    """
    if not objs:
        return None
    first = objs[0]
    keys = [k for k in first if (known is None or k in known)]
    if len(keys) < 2:
        return None
    others = [k for k in first if k not in keys]
    try:
        # Same size and every key of the first row present: the same key set on every row.
        if len(set(map(len, objs))) != 1:
            return None
        if not all(all(map(dict.__contains__, objs, repeat(k))) for k in others):
            return None
        rows = list(map(itemgetter(*keys), objs))
    except (KeyError, TypeError):
        return None
    try:  # fromiter is the fastest conversion; it refuses None (null), np.array maps it to NaN
        flat = np.fromiter(chain.from_iterable(rows), np.float64, len(rows) * len(keys))
        matrix = flat.reshape(len(rows), len(keys))
    except (TypeError, ValueError):
        try:
            matrix = np.array(rows, dtype=np.float64)
        except (TypeError, ValueError):
            return None
    if matrix.ndim != 2:
        return None
    # One contiguous copy per column, so no column keeps the whole batch matrix alive.
    return {key: matrix[:, i].copy() for i, key in enumerate(keys)}


def _general_columns(objs: list[dict[str, Any]]) -> dict[str, np.ndarray] | None:
    keys = set().union(*map(dict.keys, objs)) & _KNOWN
    arrays: dict[str, np.ndarray] = {}
    try:
        for key in keys:
            col = np.array([o.get(key) for o in objs], dtype=np.float64)
            if col.ndim != 1:
                return None
            arrays[key] = col
    except (TypeError, ValueError):
        return None
    return arrays


def _general_metric_columns(metrics: list[Any], present: list[dict[str, Any]]
                            ) -> dict[str, np.ndarray]:
    names = set().union(*map(dict.keys, present)) if present else set()
    out: dict[str, np.ndarray] = {}
    for name in names:
        values = [m.get(name) if m else None for m in metrics]
        out[name] = np.array(
            [v if isinstance(v, int | float) and not isinstance(v, bool) else np.nan
             for v in values], dtype=np.float64,
        )
    return out


def load_samples(path: Path, warn: Warn | None = None) -> Samples:
    """Read ``path`` (a resources.jsonl) into sorted, de-duplicated columns."""
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        if warn is not None:
            warn(message)

    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    cols = _Columns(expected_rows=size // 200 + 1024)  # grows if lines are shorter
    with fh:
        for batch, fragment in _batches(path, fh):
            if not cols.add_block(batch):
                _add_general(path, batch, cols)
            if fragment is not None:
                _add_fragment(path, batch.first_lineno + len(batch.lines), fragment, cols, note)
    if cols.rows == 0:
        raise InputError(f"{path}: no valid sample (need JSON lines with ts and rss_bytes)")
    columns = cols.fields.result(cols.rows)
    metrics = cols.metrics.result(cols.rows)
    columns = {k: v for k, v in columns.items() if not np.isnan(v).all()}
    _sort_dedupe(path, columns, metrics, note)
    release_free_heap()  # the parsed lines' pages: the analysis peaks on top of what is left
    return Samples(path=path, columns=columns, metrics=metrics, warnings=notes)


def _add_general(path: Path, batch: _Batch, cols: _Columns) -> None:
    """The general path for a block the fast decoder refused: orjson per line into dicts,
    then, on any anomaly, line by line to name the file, line and key that are wrong."""
    objs = _fast_objects(batch)
    if objs is None or not cols.add(objs):
        objs = _slow_objects(path, batch)
        if objs and not cols.add(objs):
            raise InputError(f"{path}:{batch.first_lineno}: unusable values in batch")


def _add_fragment(path: Path, lineno: int, fragment: bytes, cols: _Columns, note: Warn) -> None:
    try:
        obj = orjson.loads(fragment)
    except orjson.JSONDecodeError:
        note(f"{path}:{lineno}: truncated last line skipped")
        return
    if not isinstance(obj, dict):
        note(f"{path}:{lineno}: truncated last line skipped")
        return
    _check_object(path, lineno, obj)
    cols.add([obj])


def _sort_dedupe(
    path: Path, columns: dict[str, np.ndarray], metrics: dict[str, np.ndarray], note: Warn
) -> None:
    ts = columns["ts"]
    order: np.ndarray | None = None
    if ts.size > 1 and np.any(np.diff(ts) < 0):
        order = np.argsort(ts, kind="stable")
        note(f"{path}: samples out of time order; sorted by ts")
        ts = ts[order]
    keep: np.ndarray | None = None
    if ts.size > 1:
        dup = np.diff(ts) == 0
        if dup.any():
            keep = np.concatenate(([True], ~dup))
            note(f"{path}: {int(dup.sum())} samples with a duplicate ts dropped (first kept)")
    if order is None and keep is None:
        return
    for store in (columns, metrics):
        for key, col in store.items():
            col = col[order] if order is not None else col
            store[key] = col[keep] if keep is not None else col
