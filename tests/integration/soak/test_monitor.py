"""soakctl monitor: attach to a process that is not ours and sample its tree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.soak.conftest import (
    cli_env,
    read_jsonl,
    run_cli,
    soakctl,
    wait_for,
)

pytestmark = pytest.mark.linux_only("targets are bash pipelines of sleep")


def test_monitor_samples_a_foreign_tree_until_it_exits(tmp_path: Path) -> None:
    # The tree lives until the test has seen enough samples, however slowly soakctl starts:
    # bash with three sleeps; bash waits for the third, which the test ends.
    last = tmp_path / "last.pid"
    tree = subprocess.Popen(
        ["bash", "-c", f"sleep 60 & sleep 60 & sleep 120 & echo $! > {last}; wait $!; exit 0"],
        start_new_session=True)
    out = tmp_path / "mon.jsonl"
    monitor = subprocess.Popen(
        [soakctl(), "monitor", "--pid", str(tree.pid), "--interval", "0.2s", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(),
        stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: out.exists() and len(read_jsonl(out)) >= 5, 60, "five samples")
        os.kill(int(last.read_text()), signal.SIGTERM)
        stdout, stderr = monitor.communicate(timeout=60)
    finally:
        if monitor.poll() is None:
            monitor.kill()
            monitor.communicate(timeout=10)
        tree.kill()
        tree.wait(timeout=10)
        subprocess.run(["pkill", "-9", "-s", str(tree.pid)], check=False)
    assert monitor.returncode == 0, stderr
    assert "stopped: exited" in stdout
    samples = read_jsonl(out)
    assert len(samples) >= 5
    assert max(s["num_procs"] for s in samples) == 4  # bash + 3 background sleeps
    assert all(s["pid"] == tree.pid for s in samples)


def test_monitor_of_missing_pid_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli(["monitor", "--pid", "999999999", "--out", str(tmp_path / "x.jsonl")])
    assert proc.returncode == 2
    assert "no such running process" in proc.stderr and "Traceback" not in proc.stderr


def test_monitor_duration_bounds_the_run(tmp_path: Path) -> None:
    out = tmp_path / "self.jsonl"
    proc = run_cli(
        [
            "monitor",
            "--pid",
            str(_parent_pid()),
            "--interval",
            "0.1s",
            "--duration",
            "1s",
            "--out",
            str(out),
        ],
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "duration_reached" in proc.stdout
    assert 8 <= len(read_jsonl(out)) <= 12


def _parent_pid() -> int:
    import os

    return os.getpid() if sys.platform != "win32" else os.getppid()
