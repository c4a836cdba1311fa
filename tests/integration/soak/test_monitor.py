"""soakctl monitor: attach to a process that is not ours and sample its tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.soak.conftest import read_jsonl, run_cli

pytestmark = pytest.mark.linux_only("targets are bash pipelines of sleep")


def test_monitor_samples_a_foreign_tree_until_it_exits(tmp_path: Path) -> None:
    tree = subprocess.Popen(
        ["bash", "-c", "sleep 30 & sleep 30 & sleep 3; exit 0"], start_new_session=True)
    out = tmp_path / "mon.jsonl"
    try:
        proc = run_cli(["monitor", "--pid", str(tree.pid), "--interval", "0.2s", "--out", str(out)],
                       timeout=60)
    finally:
        tree.kill()
        tree.wait(timeout=10)
        subprocess.run(["pkill", "-9", "-s", str(tree.pid)], check=False)
    assert proc.returncode == 0, proc.stderr
    assert "stopped: exited" in proc.stdout
    samples = read_jsonl(out)
    assert len(samples) >= 5
    assert max(s["num_procs"] for s in samples) == 4  # bash + 2 background sleeps + sleep 3
    assert all(s["pid"] == tree.pid for s in samples)


def test_monitor_of_missing_pid_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli(["monitor", "--pid", "999999999", "--out", str(tmp_path / "x.jsonl")])
    assert proc.returncode == 2
    assert "no such running process" in proc.stderr and "Traceback" not in proc.stderr


def test_monitor_duration_bounds_the_run(tmp_path: Path) -> None:
    out = tmp_path / "self.jsonl"
    proc = run_cli(["monitor", "--pid", str(_parent_pid()), "--interval", "0.1s",
                    "--duration", "1s", "--out", str(out)], timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "duration_reached" in proc.stdout
    assert 8 <= len(read_jsonl(out)) <= 12


def _parent_pid() -> int:
    import os

    return os.getpid() if sys.platform != "win32" else os.getppid()
