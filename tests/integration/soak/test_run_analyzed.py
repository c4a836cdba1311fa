"""`soakctl run` ends with the analysis: the README's main job, shortened, passes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.soak.conftest import PY, run_cli, run_dir_of


def test_demo_soak_is_analysed_and_passes(tmp_path: Path) -> None:
    proc = run_cli(
        [
            "run",
            "--duration",
            "12s",
            "--interval",
            "0.5s",
            "--out",
            str(tmp_path),
            "--",
            PY,
            "-m",
            "soakctl.demo",
        ],
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = run_dir_of(proc)
    assert run_dir.parent == tmp_path
    for name in (
        "run.json",
        "resources.jsonl",
        "events.jsonl",
        "analysis.json",
        "report.html",
        "summary.md",
        "junit.xml",
    ):
        assert (run_dir / name).is_file(), name
    analysis = json.loads((run_dir / "analysis.json").read_text())
    assert analysis["verdict"] == "pass"
    assert analysis["samples"] >= 20
    assert "verdict: PASS" in proc.stdout
    log = (run_dir / "logs" / "target.log").read_text()
    assert "demo: heartbeat 1" in log and "worker-0: tick 1" in log


def test_unexpected_exit_fails_the_verdict(tmp_path: Path) -> None:
    proc = run_cli(
        [
            "run",
            "--duration",
            "30s",
            "--interval",
            "0.5s",
            "--out",
            str(tmp_path),
            "--",
            PY,
            "-c",
            "import time; time.sleep(2)",
        ],
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run = json.loads((run_dir_of(proc) / "run.json").read_text())
    assert run["exit_reason"] == "target_exited" and run["unexpected_exit"] is True
