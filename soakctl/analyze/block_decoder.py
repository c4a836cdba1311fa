"""Decode a block of ``resources.jsonl`` lines straight into numeric columns (the fast path).

``msgspec`` decodes the whole block in one call (``decode_lines``) into small typed records
(no dict per line, not tracked by the GC), whose numeric fields are then gathered into one
float64 matrix. A block is accepted only when it decodes cleanly against the sample's types
(docs/run-files.md §4): ``ts`` and ``rss_bytes`` present and numbers, every other sample field
absent, ``null`` or a number (never a bool or a string), ``metrics`` absent, ``null`` or an
object, no key outside the contract. Anything else (a bad line, a string where a number
belongs, an unknown key) returns None, and the loader re-reads the block through its general
path, which keeps every rule of ``soakctl.analyze.loader`` and names the file, line and key
that are wrong. So this module only decides *how fast* a block is read, never *whether* it is
valid.

Where msgspec is more lenient than the general path (orjson, one document per line), the block
is checked first: ``decode_lines`` reads a stream of values separated by any whitespace (two
objects on one line, or one over two lines, would pass), so every line must hold exactly one
object; a block that is not ASCII must be valid UTF-8; and no value is skipped unchecked (an
unknown key refuses the block).
"""

from __future__ import annotations

import math
from itertools import chain
from operator import attrgetter
from typing import cast

import msgspec
import numpy as np

from soakctl.contracts import SAMPLE_NUMERIC, SAMPLE_REQUIRED

_OPTIONAL = tuple(k for k in SAMPLE_NUMERIC if k not in SAMPLE_REQUIRED)
# Columns in the contract's order, the order the sampler writes a line's keys in.
_FIELDS: tuple[str, ...] = SAMPLE_NUMERIC

# Required fields first (no default); an absent optional field reads as NaN, a null as None.
# A JSON scalar; numbers as floats, range-checked like the general path does (a nested array or
# object refuses the block: inside ``Any`` msgspec would keep a 400-digit integer exact).
_Scalar = float | str | bool | None

# Every key of the contract is declared and any other key refuses the block: msgspec skips an
# unknown key's value without the checks the general path makes (a number beyond a double,
# UTF-8), and the general path is the one that tolerates unknown keys.
_Row = msgspec.defstruct(
    "_Row",
    [
        *((key, float) for key in SAMPLE_REQUIRED),
        *((key, float | None, math.nan) for key in _OPTIONAL),
        ("name", _Scalar, None),  # decoded (so checked), never used
        ("metrics", dict[str, _Scalar] | None, None),
    ],
    gc=False,
    forbid_unknown_fields=True,
)
_DECODER = msgspec.json.Decoder(_Row)
_GET_FIELDS = attrgetter(*_FIELDS)
_GET_METRICS = attrgetter("metrics")


class DecodedBlock(msgspec.Struct, frozen=True, gc=False):
    """The rows of one block: a column per sample field present, and each row's metrics."""

    rows: int
    columns: dict[str, np.ndarray]
    metrics: list[dict[str, _Scalar] | None]


def decode_block(data: bytes | bytearray | memoryview, newlines: np.ndarray | None = None
                 ) -> DecodedBlock | None:
    """Columns of the complete lines in ``data`` (``newlines``: the offsets of its newlines,
    when the caller has them); None when the block needs the general path."""
    raw = np.frombuffer(data, np.uint8)
    if raw.size == 0:
        return DecodedBlock(0, {}, [])
    if newlines is None:
        newlines = np.flatnonzero(raw == ord("\n"))
    if not _one_object_per_line(raw, newlines) or not _utf8(data, raw):
        return None
    try:
        records = _DECODER.decode_lines(data)
    except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
        return None
    if len(records) != newlines.size:
        return None
    n = len(records)
    try:  # fromiter is the fastest conversion but refuses None (a null field)
        flat = np.fromiter(chain.from_iterable(map(_GET_FIELDS, records)), np.float64,
                           n * len(_FIELDS))
        matrix = flat.reshape(n, len(_FIELDS))
    except TypeError:
        matrix = np.array(list(map(_GET_FIELDS, records)), dtype=np.float64)  # None -> NaN
    # A field absent from the whole block makes no column, as in the general path. Columns are
    # views: the loader copies them into its buffers.
    absent = cast(np.ndarray, np.isnan(matrix).all(axis=0))
    columns = {key: matrix[:, i] for i, key in enumerate(_FIELDS)
               if not absent[i] or key in SAMPLE_REQUIRED}
    return DecodedBlock(n, columns, list(map(_GET_METRICS, records)))


def _one_object_per_line(raw: np.ndarray, newlines: np.ndarray) -> bool:
    """Every newline ends an object (``}`` right before it, or before its ``\\r``) and the next
    line starts one (``{``), as the sampler writes them.

    No newline can then be inside an object (after a nested ``}`` JSON allows only ``,`` or a
    closing bracket, never ``{``; a string cannot hold a raw newline), so with as many records
    as lines each line holds exactly one. Other spacing goes to the general path.
    """
    if newlines.size == 0 or newlines[-1] != raw.size - 1 or raw[0] != ord("{"):
        return False
    before = raw[newlines - 1]
    cr = before == ord("\r")
    if cr.any():
        before = np.where(cr, raw[np.maximum(newlines - 2, 0)], before)
    return bool((before == ord("}")).all() and (raw[newlines[:-1] + 1] == ord("{")).all())


def _utf8(data: bytes | bytearray | memoryview, raw: np.ndarray) -> bool:
    if int(raw.max()) < 0x80:
        return True  # ASCII: what the sampler writes unless a name is not
    try:
        str(data, "utf-8")
    except UnicodeDecodeError:
        return False
    return True
