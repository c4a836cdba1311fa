"""Profiles end to end: validation errors, services with ready files and placeholders, metric
scraping, after-checks, the disk guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.soak.conftest import (
    PY,
    TARGETS,
    events,
    read_jsonl,
    run_cli,
    run_dir_of,
    write_profile,
)

pytestmark = pytest.mark.linux_only("targets are POSIX commands (sleep)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("target: {command: [sleep, '1'], bogus: 1}\n", "target.bogus: unknown key"),
        ("duration: fast\ntarget: {command: [sleep, '1']}\n", "duration: expected a duration"),
        (
            "target: {command: [sleep, '1'], backoff: {base: fast}}\n",
            'target.backoff.base: expected a duration, got "fast"',
        ),
        ("name: x\n", "target.command: required key is missing"),
        ("target: {command: [sleep, '1']\n", "invalid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("target: {command: ['/no/such/binary']}\nduration: 5s\n", "cannot start"),
    ],
)
def test_bad_profiles_exit_2_with_one_line(tmp_path: Path, text: str, expected: str) -> None:
    profile = write_profile(tmp_path / "bad.yaml", text)
    proc = run_cli(["run", "--profile", str(profile), "--out", str(tmp_path), "--no-analyze"])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_bad_flags_exit_2(tmp_path: Path) -> None:
    for args in (["--duration", "soon"], ["--hours", "1", "--minutes", "2"], ["--interval", "0"]):
        proc = run_cli(["run", *args, "--out", str(tmp_path), "--", "sleep", "1"])
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    missing = run_cli(["run", "--profile", "no-such-profile", "--out", str(tmp_path)])
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_service_ready_file_placeholders_metrics_and_after_checks(tmp_path: Path) -> None:
    marker = tmp_path / "after-ran"
    profile = write_profile(
        tmp_path / "p.yaml",
        f"""
name: with-services
duration: 3s
interval: 0.25s
services:
  - name: exporter
    command: [{PY}, {TARGETS / "ready_service.py"}, "{{run_dir}}/exporter.json"]
    ready: {{file: "{{run_dir}}/exporter.json", timeout: 20s}}
target:
  command: [{PY}, -c, "import os, time; print(os.environ['EXP_URL'], flush=True); time.sleep(600)"]
  env: {{EXP_URL: "{{services.exporter.url}}"}}
metrics_url: "{{services.exporter.url}}"
after:
  - [{PY}, -c, "import pathlib; pathlib.Path('{marker}').write_text('ok')"]
  - [{PY}, -c, "raise SystemExit(4)"]
criteria:
  - cpu_percent.avg < 90
""",
    )
    proc = run_cli(["run", "--profile", str(profile), "--out", str(tmp_path), "--no-analyze"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = run_dir_of(proc)
    url = json.loads((run_dir / "exporter.json").read_text())["url"]
    assert url in (run_dir / "logs" / "target.log").read_text()
    samples = read_jsonl(run_dir / "resources.jsonl")
    with_metrics = [s for s in samples if "metrics" in s]
    assert with_metrics, "no sample carried scraped metrics"
    last = with_metrics[-1]["metrics"]
    assert last["demo_queue_depth"] == 7
    assert last["demo_ticks_total"] > 0  # summed over both label sets
    assert marker.read_text() == "ok"
    checks = events(run_dir, "check")
    assert [c["ok"] for c in checks] == [True, False]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["commands"]["services"]["exporter"][-1] == f"{run_dir}/exporter.json"
    assert [c["returncode"] for c in run["after_checks"]] == [0, 4]
    names = [(e["event"], e["name"]) for e in events(run_dir)]
    # services start first and stop last
    assert names.index(("start", "exporter")) < names.index(("start", "target"))
    assert names.index(("exit", "target")) < names.index(("exit", "exporter"))


def test_service_that_never_becomes_ready_fails_the_start(tmp_path: Path) -> None:
    profile = write_profile(
        tmp_path / "p.yaml",
        """
duration: 30s
services:
  - name: slow
    command: [sleep, "600"]
    ready: {tcp: "127.0.0.1:1", timeout: 1s}
target:
  command: [sleep, "600"]
""",
    )
    proc = run_cli(["run", "--profile", str(profile), "--out", str(tmp_path), "--no-analyze"])
    assert proc.returncode == 2
    assert "service 'slow' not ready after 1s" in proc.stderr
    run = json.loads((run_dir_of(proc) / "run.json").read_text())
    assert run["exit_reason"] == "service_failed"


def test_disk_low_prunes_rotated_logs_and_critical_stops(tmp_path: Path) -> None:
    chatty = f"[{PY}, {TARGETS / 'chatty.py'}, '200000']"
    low = write_profile(
        tmp_path / "low.yaml",
        f"""
duration: 3s
interval: 0.2s
target: {{command: {chatty}, restart: never}}
logs: {{max_bytes: 100kB, keep: 50}}
disk: {{min_free: 1000TB, critical_free: 0}}
""",
    )
    proc = run_cli(["run", "--profile", str(low), "--out", str(tmp_path), "--no-analyze"])
    run_dir = run_dir_of(proc)
    disk_low = events(run_dir, "disk_low")
    assert disk_low and any(e["pruned"] for e in disk_low)
    rotated = events(run_dir, "log_rotated")
    pruned = sum(len(e["pruned"]) for e in disk_low)
    dropped = sum(e["dropped"] is not None for e in rotated)
    assert len(rotated) > 5 and pruned > 0
    # Every rotated file is accounted for by the events, however fast the machine: still on
    # disk, pruned by the disk guard, or dropped by `keep` (a fast target rotates more than
    # `keep` times between two samples of the guard).
    left = len(list((run_dir / "logs").glob("target.log.*")))
    assert left == len(rotated) - pruned - dropped
    assert left <= 50

    critical = write_profile(
        tmp_path / "critical.yaml",
        """
duration: 60s
interval: 0.2s
target: {command: [sleep, "600"]}
disk: {min_free: 0, critical_free: 1000TB}
""",
    )
    proc = run_cli(["run", "--profile", str(critical), "--out", str(tmp_path), "--no-analyze"])
    assert proc.returncode == 1
    run = json.loads((run_dir_of(proc) / "run.json").read_text())
    assert run["exit_reason"] == "disk_critical"
    assert events(run_dir_of(proc), "disk_critical")
