"""The loader's fast block decoder never changes a result: property tests.

Every generated file is loaded twice, once as shipped (msgspec block decoder first) and once
with the decoder refusing every block (the orjson general path and the line-by-line path
only); both must give the same columns, metrics and warnings, or the same one-line error.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soakctl.analyze import loader
from soakctl.analyze.block_decoder import decode_block
from soakctl.contracts import SAMPLE_NUMERIC
from soakctl.errors import InputError

_NUMBER = st.one_of(
    st.integers(0, 2**40),
    st.floats(0, 1e12, allow_nan=False),
)
_ODD = st.one_of(
    st.integers(-(2**70), 2**70),  # beyond 64 bits: both parsers read a float
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.lists(st.integers(0, 3), max_size=2),
)
_METRICS = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["a", "b", "q_bytes"]), st.one_of(_NUMBER, _ODD), max_size=3),
    _ODD,
)


@st.composite
def _row(draw: st.DrawFn, clean: bool) -> dict[str, Any]:
    clean_ts = st.one_of(st.integers(1, 50), st.floats(1, 50))
    ts = draw(clean_ts if clean else st.one_of(_NUMBER, _ODD))
    row: dict[str, Any] = {"ts": ts, "rss_bytes": draw(_NUMBER if clean else _ODD)}
    for key in draw(st.sets(st.sampled_from(SAMPLE_NUMERIC[2:]), max_size=4)):
        row[key] = draw(_NUMBER if clean else st.one_of(_NUMBER, _ODD))
    if draw(st.booleans()):
        row["metrics"] = draw(
            st.dictionaries(st.sampled_from(["a", "b"]), _NUMBER, max_size=2) if clean else _METRICS
        )
    if draw(st.booleans()):
        row["name"] = "target"
    if not clean and draw(st.booleans()):
        row.pop(draw(st.sampled_from(["ts", "rss_bytes"])))
    return row


@st.composite
def _one_odd_value(draw: st.DrawFn) -> dict[str, Any]:
    """A clean row but for one value: the anomalies a single block is most likely to carry."""
    row = draw(_row(clean=True))
    key = draw(st.sampled_from(["ts", "rss_bytes", "metrics", *SAMPLE_NUMERIC[2:]]))
    if key == "metrics":
        row["metrics"] = {"a": draw(_ODD)} if draw(st.booleans()) else draw(_ODD)
    else:
        row[key] = draw(st.one_of(_ODD, st.sampled_from([2**64 - 1, 2**64, 0, 0.0, -0.0])))
    return row


_DUMPS = st.sampled_from([json.dumps, lambda r: json.dumps(r, separators=(",", ":"))])
_CLEAN = st.builds(lambda dumps, row: dumps(row).encode(), _DUMPS, _row(clean=True))
_LINE = st.one_of(
    _CLEAN,
    _CLEAN,
    _CLEAN.map(lambda line: line + b"\r"),
    _row(clean=False).map(lambda r: json.dumps(r).encode()),
    _one_odd_value().map(lambda r: json.dumps(r).encode()),
    st.sampled_from([
        b"", b"   ", b"\r", b"[1, 2]", b'"x"', b"not json", b'{"ts": 1, "rss_bytes": NaN}',
        b'{"ts": 1, "rss_bytes": 1e999}', b'{"ts": 1, "rss_bytes": 2, "ts": 3}',
        # what msgspec's decode_lines alone would take and the general path refuses:
        b'{"ts": 1, "rss_bytes": 2}{"ts": 2, "rss_bytes": 2}',  # two objects on a line
        b'{"ts": 1, "rss_bytes": 2} {"ts": 2, "rss_bytes": 2}',
        b'{"ts": 1,\n "rss_bytes": 2}',  # one object over two lines
        b'{"ts": 1, "rss_bytes": 2, "x": {"y": 1}\n}',
        b'{"ts": 1, "rss_bytes": 2, "name": "\xff\xfe"}',  # not UTF-8, in a skipped value
        b'{"ts": 1, "rss_bytes": 2, "\xc3\x28": 1}',
        b'{"ts": 1, "rss_bytes": 2, "name": "caf\xc3\xa9"}',  # valid UTF-8
        b'{"ts": 1, "rss_bytes": 2, "x": ' + b"[" * 3000 + b"]" * 3000 + b"}",  # deep nesting
        b'{"ts": 1, "rss_bytes": 2, "x": 01}', b'{"ts": 1, "rss_bytes": 2, "x": 1.}',
        b'{"ts": 1, "rss_bytes": 2, "x": tru}', b'{"ts": 1, "rss_bytes": 2, "x": "\\q"}',
        b'{"ts": 1, "rss_bytes": 2, "x": [1,]}', b'{"ts": 1, "rss_bytes": 2,}',
        b'{"ts": 1, "rss_bytes": 2, "x": "a\tb"}', b' {"ts": 1, "rss_bytes": 2} ',
        b'{"ts": 1, "rss_bytes": 2, "x": 1e999}', b'{"ts": 1, "rss_bytes": 2, "name": 1e999}',
        b'{"ts": 1, "rss_bytes": 2, "metrics": {"m": 1' + b"0" * 400 + b"}}",
        b'{"ts": 1, "rss_bytes": 2, "name": [1' + b"0" * 400 + b"]}",
        b'{"ts": 1, "rss_bytes": 2, "metrics": {"m": [1], "n": true}}',
    ]),
)


def _outcome(path: Path, block_bytes: int, fast: bool) -> tuple[Any, ...]:
    warnings: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(loader, "BLOCK_BYTES", block_bytes)
        if not fast:
            mp.setattr(loader, "decode_block", lambda *args: None)
        try:
            s = loader.load_samples(path, warnings.append)
        except InputError as exc:
            return ("error", str(exc))
    return (
        "ok",
        {k: v.tolist() for k, v in s.columns.items()},
        {k: v.tolist() for k, v in s.metrics.items()},
        warnings,
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(_LINE, max_size=30),
    tail=st.sampled_from(["", '{"ts": 60, "rss_b', '{"ts": 60, "rss_bytes": 5}', "[1"]),
    block_bytes=st.sampled_from([16, 64, 200, 1 << 20]),
)
def test_fast_decoder_and_general_path_agree(lines: list[bytes], tail: str, block_bytes: int
                                             ) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resources.jsonl"
        path.write_bytes(b"".join(line + b"\n" for line in lines) + tail.encode())
        fast = _outcome(path, block_bytes, fast=True)
        general = _outcome(path, block_bytes, fast=False)
    assert _same(fast, general), (fast, general)


@given(rows=st.lists(_row(clean=True), min_size=1, max_size=40))
def test_clean_blocks_take_the_fast_path(rows: list[dict[str, Any]]) -> None:
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    block = decode_block(data)
    assert block is not None
    assert block.rows == len(rows)
    assert block.columns["ts"].tolist() == [float(r["ts"]) for r in rows]


@pytest.mark.parametrize("value", ["true", '"12"', "[1]", "-1e400", "NaN"])
def test_values_the_general_path_must_judge_are_refused(value: str) -> None:
    assert decode_block(b'{"ts": 1, "rss_bytes": 2, "num_fds": %s}\n' % value.encode()) is None


@settings(deadline=None)
@given(
    lengths=st.lists(st.integers(0, 40), min_size=1, max_size=30),
    limit=st.integers(1, 30),
)
def test_line_length_check_matches_measuring_every_line(lengths: list[int], limit: int) -> None:
    data = b"".join(b"x" * n + b"\n" for n in lengths)
    batch = loader._Batch(7, bytearray(data + b"tail of the next line"), len(data))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(loader, "MAX_LINE_BYTES", limit)
        too_long = [i for i, n in enumerate(lengths) if n > limit]
        if too_long:
            with pytest.raises(InputError, match=rf":{7 + too_long[0]}: line longer than"):
                loader._check_line_lengths(Path("f"), batch)
        else:
            loader._check_line_lengths(Path("f"), batch)


def test_a_large_clean_file_is_read_by_the_fast_decoder_alone(tmp_path: Path) -> None:
    path = tmp_path / "resources.jsonl"
    rows = [{"ts": 1.0 + i, "rss_bytes": 1000 + i, "pid": None, "metrics": {"q": i}}
            for i in range(20_000)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.MonkeyPatch.context() as mp:
        def refuse(batch: Any) -> None:
            raise AssertionError("general path used")
        mp.setattr(loader, "_add_general", lambda path, batch, cols: refuse(batch))
        s = loader.load_samples(path)
    assert s.n == 20_000
    assert np.array_equal(s.metrics["q"], np.arange(20_000, dtype=np.float64))
    assert "pid" not in s.columns  # null everywhere: no column


@pytest.mark.parametrize("content", [
    # as many records as lines, yet not one per line: decode_lines alone would take them
    b'{"ts": 1,\n"rss_bytes": 2}\n{"ts": 2, "rss_bytes": 2}{"ts": 3, "rss_bytes": 2}\n',
    b'\n{"ts": 2, "rss_bytes": 2} {"ts": 3, "rss_bytes": 2}\n',
    b'{"ts": 1, "rss_bytes": 2, "x": {"y": 1}\n}\n'
    b'{"ts": 2, "rss_bytes": 2}{"ts": 3, "rss_bytes": 2}\n',
])
def test_records_that_do_not_sit_one_per_line_are_refused(tmp_path: Path, content: bytes
                                                           ) -> None:
    path = tmp_path / "resources.jsonl"
    path.write_bytes(content)
    assert decode_block(content) is None
    fast = _outcome(path, 1 << 20, fast=True)
    assert fast[0] == "error"
    assert fast == _outcome(path, 1 << 20, fast=False)


def test_the_fast_decoder_declares_every_key_of_the_sample_contract() -> None:
    """An undeclared key refuses the block: a key the sampler writes must never do that."""
    from soakctl.analyze import block_decoder
    from soakctl.contracts import Sample

    assert set(block_decoder._Row.__struct_fields__) == set(Sample.__annotations__)
    line = json.dumps({"ts": 1, "rss_bytes": 2, "name": "target", "extra": 1}).encode() + b"\n"
    assert decode_block(line) is None  # unknown key: the general path, which tolerates it
