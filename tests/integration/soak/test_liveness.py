"""A soak cannot pass idle or hung: activity criteria on the bot profiles, liveness probes.

Real processes throughout: the bundled bot-sim profile with its target replaced by a process
that only sleeps, and a target that keeps running but stops answering its /healthz.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.integration.soak.conftest import PY, TARGETS, events, read_jsonl, run_cli, run_dir_of


def _analysis(run_dir: Path) -> dict[str, object]:
    return json.loads((run_dir / "analysis.json").read_text())


def test_bot_sim_with_an_idle_target_fails_naming_the_activity_criterion(tmp_path: Path) -> None:
    proc = run_cli(["run", "--profile", "bot-sim", "--duration", "15s", "--out",
                    str(tmp_path / "out"), "--", PY, "-c", "import time; time.sleep(600)"],
                   timeout=240)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = run_dir_of(proc)
    failed = {c["expr"]: c for c in _analysis(run_dir)["criteria"]  # type: ignore[union-attr]
              if c["status"] == "fail"}
    assert "metrics.mmbot_orders_total.increase > 0" in failed
    assert "no data" in failed["metrics.mmbot_orders_total.increase > 0"]["message"]
    assert "metrics.mmbot_orders_total.increase > 0" in proc.stdout  # the reasons printed


def _hung_profile(tmp_path: Path, restart: str) -> Path:
    profile = {
        "name": "hangs", "duration": "60s", "interval": "0.5s",
        "target": {
            "command": [PY, str(TARGETS / "hangs.py"), "{ports.health}", "3"],
            "restart": restart, "max_restarts": 1, "backoff": {"base": "0.2s", "jitter": 0},
            "stop_timeout": "2s",
            "liveness": {"http": "http://127.0.0.1:{ports.health}/healthz", "every": "0.5s",
                         "timeout": "0.5s", "failures": 3, "start_period": "1s"},
        },
        "criteria": ["liveness_failures == 0"],
    }
    path = tmp_path / "hangs.yaml"
    path.write_text(yaml.safe_dump(profile))
    return path


def test_a_hung_target_fails_and_is_restarted_when_the_policy_says_so(tmp_path: Path) -> None:
    proc = run_cli(["run", "--profile", str(_hung_profile(tmp_path, "on-failure")),
                    "--duration", "25s", "--out", str(tmp_path / "out")], timeout=180)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = run_dir_of(proc)
    failures = events(run_dir, "liveness_failed")
    assert len(failures) >= 3
    unhealthy = events(run_dir, "unhealthy")
    assert unhealthy and unhealthy[0]["action"] == "restart"
    restarts = events(run_dir, "restart")
    assert restarts and restarts[0]["reason"] == "unhealthy"
    # The second incarnation hangs as well and max_restarts is 1: the run gives up.
    run = json.loads((run_dir / "run.json").read_text())
    assert run["restarts"] >= 1 and run["unexpected_exit"] is True
    assert events(run_dir, "start")[-1]["attempt"] >= 1
    samples = read_jsonl(run_dir / "resources.jsonl")
    assert samples[-1]["liveness_failures"] == len(failures)
    failed = [c["expr"] for c in _analysis(run_dir)["criteria"]  # type: ignore[union-attr]
              if c["status"] == "fail"]
    assert "liveness_failures == 0" in failed


def test_a_hung_target_is_not_restarted_under_restart_never(tmp_path: Path) -> None:
    proc = run_cli(["run", "--profile", str(_hung_profile(tmp_path, "never")),
                    "--duration", "10s", "--out", str(tmp_path / "out")], timeout=120)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = run_dir_of(proc)
    unhealthy = events(run_dir, "unhealthy")
    assert unhealthy and unhealthy[0]["action"] == "none"
    assert not events(run_dir, "restart")
    assert len(events(run_dir, "start")) == 1
    run = json.loads((run_dir / "run.json").read_text())
    assert run["exit_reason"] == "duration_reached"
