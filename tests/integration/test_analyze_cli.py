"""``soakctl analyze`` as a user runs it: real subprocesses, exit codes, stdout/stderr contract."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson
import pytest

MIB = 1 << 20
T0 = 1_780_000_000.0


def _samples(path: Path, leak_mib_per_h: float = 0.0, n: int = 1800, tail: bytes = b"") -> Path:
    lines = [
        orjson.dumps(
            {
                "ts": T0 + 2 * i,
                "rss_bytes": int(
                    100 * MIB + leak_mib_per_h * MIB * 2 * i / 3600 + (i % 7) * 50_000
                ),
            }
        )
        for i in range(n)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join(lines) + b"\n" + tail)
    return path


def _run(soakctl_bin: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [soakctl_bin, "analyze", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_json_prints_only_the_analysis_and_exit_zero_on_pass(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    path = _samples(tmp_path / "resources.jsonl")
    proc = _run(soakctl_bin, clean_env, str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    data = orjson.loads(proc.stdout)
    assert data["verdict"] == "pass"
    assert data["schema"] == 1
    assert data == orjson.loads((tmp_path / "analysis.json").read_bytes())
    for name in ("report.html", "summary.md", "junit.xml"):
        assert (tmp_path / name).exists()


def test_leak_exits_one_with_reasons_in_plain_output(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    path = _samples(tmp_path / "resources.jsonl", leak_mib_per_h=100)
    proc = _run(soakctl_bin, clean_env, str(path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert proc.stdout.startswith("verdict: FAIL")
    assert "RSS leak" in proc.stdout
    assert (tmp_path / "out" / "report.html").exists()
    assert not (tmp_path / "report.html").exists()


def test_criteria_repeatable_threshold_and_baseline(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    old = _samples(tmp_path / "old" / "resources.jsonl")
    new = _samples(tmp_path / "new" / "resources.jsonl", leak_mib_per_h=30)
    proc = _run(
        soakctl_bin,
        clean_env,
        str(new),
        "--json",
        "--leak-threshold",
        "100",
        "--criteria",
        "rss_bytes.max < 1e12",
        "--criteria",
        "samples >= 1800",
    )
    assert proc.returncode == 0, proc.stdout
    data = orjson.loads(proc.stdout)
    assert data["leak"]["threshold_mib_per_hour"] == 100
    assert {"rss_bytes.max < 1e12", "samples >= 1800"} <= {c["expr"] for c in data["criteria"]}
    proc = _run(
        soakctl_bin,
        clean_env,
        str(new),
        "--json",
        "--leak-threshold",
        "100",
        "--baseline",
        str(old.parent),
    )
    assert proc.returncode == 1
    assert orjson.loads(proc.stdout)["baseline"]["ok"] is False


def test_truncated_last_line_warns_on_stderr_and_still_analyses(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    path = _samples(tmp_path / "resources.jsonl", tail=b'{"ts": 1780009999.0, "rss_')
    proc = _run(soakctl_bin, clean_env, str(path), "--json")
    assert proc.returncode == 0
    assert "truncated last line skipped" in proc.stderr
    assert orjson.loads(proc.stdout)["samples"] == 1800


def _huge_line(path: Path) -> None:
    with path.open("wb") as fh:
        fh.write(b'{"ts": 1, "rss_bytes": 1, "x": "')
        for _ in range(100):
            fh.write(b"y" * MIB)
        fh.write(b'"}\n')


BAD_INPUTS: dict[str, bytes | None] = {
    "empty file": b"",
    "binary garbage": bytes(range(256)) * 64,
    "json not an object": b"[1, 2]\n",
    "missing ts": b'{"rss_bytes": 5}\n',
    "missing rss_bytes": b'{"ts": 5}\n',
    "nan value": b'{"ts": 1, "rss_bytes": NaN}\n',
    "negative value": b'{"ts": 1, "rss_bytes": -1}\n',
    "string value": b'{"ts": 1, "rss_bytes": "big"}\n',
    "100 MB line": None,
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_exits_two_with_one_line(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str], case: str
) -> None:
    path = tmp_path / "resources.jsonl"
    content = BAD_INPUTS[case]
    if content is None:
        _huge_line(path)
    else:
        path.write_bytes(content)
    proc = _run(soakctl_bin, clean_env, str(path), "--json")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("soakctl: error:")
    assert "resources.jsonl" in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--criteria", "cpu_percent.mean < 3"],
        ["--criteria", "nonsense"],
        ["--criteria", "bogus < 1"],
        ["--leak-threshold", "-1"],
    ],
)
def test_bad_flags_exit_two(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str], args: list[str]
) -> None:
    path = _samples(tmp_path / "resources.jsonl", n=50)
    proc = _run(soakctl_bin, clean_env, str(path), *args)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_unsorted_samples_are_sorted_with_a_warning(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    path = tmp_path / "resources.jsonl"
    path.write_bytes(
        b'{"ts": 3, "rss_bytes": 3}\n{"ts": 1, "rss_bytes": 1}\n'
        b'{"ts": 2, "rss_bytes": 2}\n{"ts": 2, "rss_bytes": 9}\n'
    )
    proc = _run(soakctl_bin, clean_env, str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert "sorted by ts" in proc.stderr and "duplicate ts" in proc.stderr
    data = orjson.loads(proc.stdout)
    assert data["samples"] == 3
    assert data["leak"]["status"] == "inconclusive"


def test_directory_without_samples_exits_two(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    (tmp_path / "run.json").write_text("{}")
    proc = _run(soakctl_bin, clean_env, str(tmp_path))
    assert proc.returncode == 2
    assert (
        proc.stderr.strip() == f"soakctl: error: {tmp_path}: no resources.jsonl in this "
        "directory (no samples)"
    )
    (tmp_path / "resources.jsonl").write_text("\n")
    proc = _run(soakctl_bin, clean_env, str(tmp_path))
    assert proc.returncode == 2
    assert "no valid sample" in proc.stderr
