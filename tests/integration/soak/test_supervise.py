"""soakctl run against real process trees: sampling, reaping, stopping, restarting, rotating."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.soak.conftest import (
    PY,
    TARGETS,
    alive,
    events,
    kill_quietly,
    read_jsonl,
    run_cli,
    run_dir_of,
    spawn_cli,
    wait_for,
    write_profile,
)

pytestmark = pytest.mark.linux_only("fork(), zombies, process groups, SIGTERM")


def test_tree_with_orphan_and_zombies_is_sampled_reaped_and_gone(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids.json"
    proc = run_cli(
        [
            "run",
            "--duration",
            "4s",
            "--interval",
            "0.25s",
            "--out",
            str(tmp_path),
            "--no-analyze",
            "--",
            PY,
            str(TARGETS / "tree.py"),
            str(pids_file),
        ]
    )
    assert proc.returncode == 0, proc.stderr
    run_dir = run_dir_of(proc)
    pids = json.loads(pids_file.read_text())
    samples = read_jsonl(run_dir / "resources.jsonl")
    assert len(samples) >= 5  # 16 slots; a loaded machine skips some, never bunches them
    # Once built: target + 3 sleepers + the orphaned grandchild; the 2 zombies are counted
    # apart. While it is being built a sample may also catch the short-lived middle process
    # (how often depends on the machine's speed), never more.
    assert samples[-1]["num_procs"] == 5
    assert max(s["num_procs"] for s in samples) <= 6
    assert max(s["zombies"] for s in samples) == 2
    assert {
        "rss_bytes",
        "vms_bytes",
        "cpu_percent",
        "num_threads",
        "num_fds",
        "io_read_bytes",
        "sys_cpu_percent",
        "disk_free_bytes",
        "log_bytes",
        "restarts",
    } <= samples[-1].keys()
    reaped = {e["pid"] for e in events(run_dir, "zombie_reaped")}
    assert set(pids["zombies"]) <= reaped
    run = json.loads((run_dir / "run.json").read_text())
    assert run["zombies_reaped"] == len(events(run_dir, "zombie_reaped")) >= 2
    everyone = [pids["target"], pids["grandchild"], *pids["sleepers"], *pids["zombies"]]
    assert not [p for p in everyone if alive(p)]


def test_stubborn_target_and_child_are_killed_after_grace(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids.json"
    profile = write_profile(
        tmp_path / "p.yaml",
        f"""
name: stubborn
duration: 2s
interval: 0.5s
target:
  command: [{PY}, {TARGETS / "stubborn.py"}, {pids_file}]
  stop_timeout: 1s
""",
    )
    started = time.monotonic()
    proc = run_cli(["run", "--profile", str(profile), "--out", str(tmp_path), "--no-analyze"])
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    run_dir = run_dir_of(proc)
    pids = json.loads(pids_file.read_text())
    killed = events(run_dir, "kill")
    assert killed and {pids["target"], pids["child"]} <= set(killed[0]["pids"])
    assert events(run_dir, "stop")[0]["signal"] == "SIGTERM"
    assert not alive(pids["target"]) and not alive(pids["child"])
    assert took < 30


def test_an_exit_is_seen_at_once_even_with_samples_minutes_apart(tmp_path: Path) -> None:
    """The loop sleeps until the next sample, but a root's exit wakes it (a pidfd on Linux,
    a short poll elsewhere): a restart does not wait for the next sample."""
    profile = write_profile(
        tmp_path / "p.yaml",
        f"""
duration: 120s
interval: 60s
target:
  command: [{PY}, -c, "import time; time.sleep(1.5)"]
  restart: always
  max_restarts: 2
  backoff: {{base: 0.1s, max: 0.1s, jitter: 0}}
""",
    )
    t0 = time.monotonic()
    proc = run_cli(["run", "--profile", str(profile), "--out", str(tmp_path), "--no-analyze"])
    elapsed = time.monotonic() - t0
    run_dir = run_dir_of(proc)
    exits, starts = events(run_dir, "exit"), events(run_dir, "start")
    assert len(exits) == 3 and len(starts) == 3, proc.stdout + proc.stderr
    for exit_, start in zip(exits, starts[1:], strict=False):
        assert start["ts"] - exit_["ts"] < 10  # not the 60 s to the next sample
    assert elapsed < 60, elapsed


def test_crashing_target_backs_off_then_gives_up(tmp_path: Path) -> None:
    profile = write_profile(
        tmp_path / "p.yaml",
        f"""
duration: 60s
interval: 0.5s
target:
  command: [{PY}, -c, "import sys; print('boom', flush=True); sys.exit(3)"]
  restart: on-failure
  max_restarts: 3
  backoff: {{base: 0.2s, max: 0.5s, jitter: 0.3}}
""",
    )
    proc = run_cli(["run", "--profile", str(profile), "--out", str(tmp_path), "--no-analyze"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run_dir = run_dir_of(proc)
    exits = events(run_dir, "exit")
    restarts = events(run_dir, "restart")
    assert [e["returncode"] for e in exits] == [3, 3, 3, 3]
    assert [r["attempt"] for r in restarts] == [1, 2, 3]
    for n, r in enumerate(restarts):
        raw = 0.2 * 2**n
        assert min(raw, 0.5) <= r["delay_s"] <= min(raw * 1.3, 0.5) + 1e-9
    assert events(run_dir, "give_up")
    run = json.loads((run_dir / "run.json").read_text())
    assert run["exit_reason"] == "gave_up" and run["restarts"] == 3 and run["unexpected_exit"]
    starts = events(run_dir, "start")
    assert len(starts) == 4
    # The waits between an exit and the next start follow the delays.
    for exit_, start, r in zip(exits, starts[1:], restarts, strict=False):
        assert start["ts"] - exit_["ts"] >= r["delay_s"] - 0.05
    log = (run_dir / "logs" / "target.log").read_text()
    assert log.count("boom") == 4


def test_million_lines_rotated_without_loss_split_or_interleaving(tmp_path: Path) -> None:
    n = 1_000_000
    profile = write_profile(
        tmp_path / "p.yaml",
        f"""
duration: 5m
interval: 1s
target:
  command: [{PY}, {TARGETS / "chatty.py"}, "{n}"]
  restart: never
logs: {{max_bytes: 1MB, keep: 200}}
""",
    )
    proc = run_cli(
        ["run", "--profile", str(profile), "--out", str(tmp_path), "--no-analyze"], timeout=280
    )
    run_dir = run_dir_of(proc)
    logs = run_dir / "logs"
    files = sorted(logs.glob("target.log*"))
    assert len(files) > 50  # ~66 MB at 1 MB per file
    seen_out = bytearray(n)
    seen_err = bytearray(n)
    for path in files:
        data = path.read_bytes()
        assert len(data) <= 1_000_000
        assert data.endswith(b"\n")
        for line in data.split(b"\n")[:-1]:
            kind, num, *rest = line.split(b" ")
            index = int(num)
            if kind == b"out":
                assert rest == [b"the", b"quick", b"brown", b"fox"], line
                seen_out[index] += 1
            else:
                assert kind == b"err" and rest == [b"jumps", b"over", b"the", b"lazy", b"dog"], line
                seen_err[index] += 1
    assert seen_out == bytearray([1]) * n
    assert seen_err == bytearray([1]) * n
    assert events(run_dir, "log_rotated")


def test_sigkill_of_soakctl_leaves_valid_samples_and_no_survivors(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids.json"
    pids: dict[str, Any] = {}
    args = [
        "run",
        "--duration",
        "5m",
        "--interval",
        "0.1s",
        "--out",
        str(tmp_path),
        "--no-analyze",
        "--",
        PY,
        str(TARGETS / "tree.py"),
        str(pids_file),
    ]
    try:
        with spawn_cli(args) as (proc, run_dir):
            wait_for(pids_file.exists, 30, "the target's pid file")
            wait_for(
                lambda: len((run_dir / "resources.jsonl").read_bytes().splitlines()) >= 5,
                30,
                "five samples",
            )
            pids = json.loads(pids_file.read_text())
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        everyone = [pids["target"], pids["grandchild"], *pids["sleepers"]]
        wait_for(lambda: not [p for p in everyone if alive(p)], 15, "the tree to be gone")
        lines = (run_dir / "resources.jsonl").read_bytes().split(b"\n")
        assert lines[-1] == b"" or len(lines) > 5
        for line in lines[:-1][:-1]:  # every line but a possibly torn last one
            json.loads(line)
    finally:
        if pids:
            kill_quietly([pids["target"], pids["grandchild"], *pids["sleepers"]])


def test_sigterm_to_soakctl_stops_gracefully_and_marks_interrupted(tmp_path: Path) -> None:
    args = [
        "run",
        "--duration",
        "5m",
        "--interval",
        "0.2s",
        "--out",
        str(tmp_path),
        "--no-analyze",
        "--",
        "sleep",
        "600",
    ]
    with spawn_cli(args) as (proc, run_dir):
        wait_for(
            lambda: len((run_dir / "resources.jsonl").read_bytes().splitlines()) >= 3,
            30,
            "three samples",
        )
        target = read_jsonl(run_dir / "resources.jsonl")[-1]["pid"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    run = json.loads((run_dir / "run.json").read_text())
    assert run["interrupted"] is True and run["exit_reason"] == "interrupted"
    assert run["end_ts"] is not None and run["samples"] >= 3
    assert events(run_dir, "stop")[0]["reason"] == "interrupted"
    assert not alive(target)
