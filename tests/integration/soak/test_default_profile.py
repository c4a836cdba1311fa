"""The default soak: `soakctl run` with no profile, from any directory, soaks the bundled bot
against the bundled simulator (services, ready file, placeholders, metrics, after-check)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.soak.conftest import events, read_jsonl, run_cli, run_dir_of


def test_default_bot_sim_profile_runs_from_any_directory(tmp_path: Path) -> None:
    proc = run_cli(
        ["run", "--duration", "40s", "--out", str(tmp_path / "out")], cwd=tmp_path, timeout=240
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = run_dir_of(proc)
    run = json.loads((run_dir / "run.json").read_text())
    assert run["profile"] == "bot-sim" and run["exit_reason"] == "duration_reached"
    assert run["commands"]["target"][-1] == "run"
    assert [c["ok"] for c in run["after_checks"]] == [True]  # no open orders left behind
    assert events(run_dir, "ready")[0]["name"] == "exchange"
    samples = read_jsonl(run_dir / "resources.jsonl")
    scraped = [s["metrics"] for s in samples if "metrics" in s]
    assert scraped and "ws_reconnect_attempts_total" in scraped[-1]
    # The run's generated credentials lived outside the run dir and are gone (test_run_secrets).
    assert not (run_dir / "secrets").exists()
