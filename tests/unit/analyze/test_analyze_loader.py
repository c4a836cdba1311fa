"""The resources.jsonl loader: fast and slow paths agree, bad input is one clear InputError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from soakctl.analyze.loader import MAX_LINE_BYTES, load_samples
from soakctl.errors import InputError


def _write(tmp_path: Path, rows: list[dict[str, object]], tail: bytes = b"") -> Path:
    path = tmp_path / "resources.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows) + tail)
    return path


def _rows(n: int = 20) -> list[dict[str, object]]:
    return [
        {
            "ts": 1_780_000_000.0 + i,
            "rss_bytes": 1000 + i,
            "cpu_percent": 5.0,
            "name": "target",
            "metrics": {"q": i},
        }
        for i in range(n)
    ]


def test_minimal_file_with_only_ts_and_rss(tmp_path: Path) -> None:
    path = _write(tmp_path, [{"ts": 1.0 + i, "rss_bytes": 10 * i} for i in range(5)])
    s = load_samples(path)
    assert s.n == 5
    assert set(s.columns) == {"ts", "rss_bytes"}
    assert s.columns["rss_bytes"].tolist() == [0, 10, 20, 30, 40]


def test_mixed_keys_and_metrics_fill_missing_with_nan(tmp_path: Path) -> None:
    rows = _rows(4)
    rows[2] = {"ts": rows[2]["ts"], "rss_bytes": 7, "num_fds": 9, "metrics": {"other": 1.5}}
    s = load_samples(_write(tmp_path, rows))
    assert np.isnan(s.columns["cpu_percent"][2])
    assert s.columns["num_fds"][2] == 9
    assert np.isnan(s.columns["num_fds"][0])
    assert s.metrics["q"][:2].tolist() == [0, 1]
    assert np.isnan(s.metrics["q"][2])
    assert s.metrics["other"][2] == 1.5


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"ts": 1, "rss_bytes": 1}\n\n   \n{"ts": 2, "rss_bytes": 2}\n')
    assert load_samples(path).n == 2


def test_truncated_last_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, _rows(3), tail=b'{"ts": 1780000010.0, "rss_b')
    warnings: list[str] = []
    s = load_samples(path, warnings.append)
    assert s.n == 3
    assert len(warnings) == 1
    assert "truncated last line" in warnings[0]
    assert ":4:" in warnings[0]


def test_last_line_without_newline_but_complete_is_kept(tmp_path: Path) -> None:
    path = _write(tmp_path, _rows(3), tail=b'{"ts": 1780000010.0, "rss_bytes": 5}')
    assert load_samples(path).n == 4


def test_unsorted_and_duplicate_timestamps_are_sorted_and_deduplicated(tmp_path: Path) -> None:
    rows = [{"ts": t, "rss_bytes": r} for t, r in ((3, 30), (1, 10), (2, 20), (2, 99), (4, 40))]
    warnings: list[str] = []
    s = load_samples(_write(tmp_path, rows), warnings.append)
    assert s.columns["ts"].tolist() == [1, 2, 3, 4]
    assert s.columns["rss_bytes"].tolist() == [10, 20, 30, 40]  # first of the duplicates kept
    assert any("sorted" in w for w in warnings)
    assert any("duplicate" in w for w in warnings)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "no valid sample"),
        (b"\n\n", "no valid sample"),
        (bytes(range(256)) * 40, "not valid JSON"),
        (b'[1, 2, 3]\n{"ts": 1, "rss_bytes": 1}\n', "expected a JSON object"),
        (b'"text"\n', "expected a JSON object"),
        (b'{"ts": 1}\n{"ts": 2}\n', "missing required key 'rss_bytes'"),
        (b'{"rss_bytes": 1}\n', "missing required key 'ts'"),
        (b'{"ts": 1, "rss_bytes": null}\n', "missing required key 'rss_bytes'"),
        (b'{"ts": 1, "rss_bytes": NaN}\n', "not valid JSON"),
        (b'{"ts": 1, "rss_bytes": -5}\n', "rss_bytes must be a finite non-negative"),
        (b'{"ts": 1, "rss_bytes": 5, "cpu_percent": "high"}\n', "cpu_percent must be a number"),
        (b'{"ts": 1, "rss_bytes": 5, "num_fds": [1]}\n', "num_fds must be a number"),
        (b'{"ts": 1, "rss_bytes": 1e999}\n', "not valid JSON"),
        (b'{"ts": 1, "rss_bytes": 5, "metrics": 3}\n', "metrics must be an object"),
        (b'{"ts": 1, "rss_bytes": 5}\nnot json\n{"ts": 2, "rss_bytes": 5}\n', ":2: not valid"),
    ],
)
def test_bad_input_is_one_input_error_naming_the_line(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "resources.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_samples(path)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert str(path) in message


def test_bad_line_deep_in_a_large_file_is_named(tmp_path: Path) -> None:
    rows = _rows(30_000)
    rows[25_000]["rss_bytes"] = -1
    with pytest.raises(InputError, match=r":25001: rss_bytes"):
        load_samples(_write(tmp_path, rows))


def test_over_long_line_is_rejected_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "resources.jsonl"
    with path.open("wb") as fh:
        fh.write(b'{"ts": 1, "rss_bytes": 1}\n{"ts": 2, "rss_bytes": 1, "pad": "')
        chunk = b"x" * (1 << 20)
        for _ in range(100):  # a 100 MB line
            fh.write(chunk)
        fh.write(b'"}\n')
    with pytest.raises(InputError, match=rf":2: line longer than {MAX_LINE_BYTES} bytes"):
        load_samples(path)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_samples(tmp_path / "nope.jsonl")


def test_fast_and_slow_paths_agree(tmp_path: Path) -> None:
    rows = _rows(50)
    uniform = load_samples(_write(tmp_path, rows))
    rows[10]["uss_bytes"] = 3  # a key only one row has: the general path
    other = tmp_path / "b"
    other.mkdir()
    mixed = load_samples(_write(other, rows))
    for key in ("ts", "rss_bytes", "cpu_percent"):
        assert np.array_equal(uniform.columns[key], mixed.columns[key])
    assert mixed.columns["uss_bytes"][10] == 3
    assert np.array_equal(uniform.metrics["q"], mixed.metrics["q"])
