"""``soakctl plan`` as a user runs it: real subprocesses, exit codes, the --json contract."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import orjson
import pytest

MIB = 1 << 20
T0 = 1_780_000_000.0


def _run_dir(tmp_path: Path, saw_mib: float) -> Path:
    """An hour at 1 Hz: quiet, or under a 10-minute sawtooth of ``saw_mib``."""
    gen = np.random.default_rng(3)
    el = np.arange(3600.0)
    rss = 150 * MIB + saw_mib * MIB * (el % 600) / 600 + gen.normal(0, 1.5 * MIB, el.size)
    run = tmp_path / f"run-{saw_mib:g}"
    run.mkdir()
    (run / "resources.jsonl").write_bytes(b"\n".join(
        orjson.dumps({"ts": T0 + e, "elapsed_s": e, "rss_bytes": int(r)})
        for e, r in zip(el.tolist(), rss.tolist(), strict=True)) + b"\n")
    (run / "run.json").write_bytes(orjson.dumps({"schema": 1, "run_id": "r", "start_ts": T0}))
    return run


def _plan(soakctl_bin: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([soakctl_bin, "plan", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_json_answer_and_a_sawtooth_needs_longer_than_a_quiet_run(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    answers = {}
    for saw in (0.0, 100.0):
        proc = _plan(soakctl_bin, clean_env, str(_run_dir(tmp_path, saw)), "--leak", "20MiB/h",
                     "--json")
        assert proc.returncode == 0, proc.stderr
        data = orjson.loads(proc.stdout)
        assert set(data) == {"min_duration_s", "power", "false_alarm_rate"}
        assert data["power"] == 0.95
        assert data["false_alarm_rate"] <= 0.01
        answers[saw] = data["min_duration_s"]
    assert 0 < answers[0.0] < answers[100.0]
    # The 10-minute cycle must be seen three times before it can be removed.
    assert answers[100.0] >= 1800


def test_plain_output_names_the_length_and_what_was_learned(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    proc = _plan(soakctl_bin, clean_env, str(_run_dir(tmp_path, 100.0)), "--leak", "40 MiB/h")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("soak at least ")
    assert "cycle 10m" in proc.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["--leak", "fast"], "--leak"),
    (["--leak", "5MiB/h"], "threshold"),
    (["--leak", "20MiB/h", "--power", "1.5"], "--power"),
])
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str], args: list[str], needle: str
) -> None:
    proc = _plan(soakctl_bin, clean_env, str(tmp_path), *args)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_a_missing_run_exits_2(tmp_path: Path, soakctl_bin: str,
                               clean_env: dict[str, str]) -> None:
    proc = _plan(soakctl_bin, clean_env, str(tmp_path / "nope"), "--leak", "20MiB/h")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_too_few_samples_exits_2(tmp_path: Path, soakctl_bin: str,
                                 clean_env: dict[str, str]) -> None:
    path = tmp_path / "resources.jsonl"
    path.write_bytes(b"".join(orjson.dumps({"ts": T0 + i, "rss_bytes": 100 * MIB}) + b"\n"
                              for i in range(5)))
    proc = _plan(soakctl_bin, clean_env, str(path), "--leak", "20MiB/h")
    assert proc.returncode == 2
    assert "only 5 RSS samples" in proc.stderr
