"""A real run's files fit the contracts in ``soakctl.contracts`` (docs/run-files.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Union

from pydantic import TypeAdapter

from soakctl.contracts import EVENT_TYPES, AnalysisJson, Event, ExitReason, RunJson, Sample
from tests.integration.soak.conftest import PY, events, run_cli, run_dir_of, write_profile

EVENT = TypeAdapter(Union[tuple(EVENT_TYPES.values())])  # type: ignore[valid-type]  # noqa: UP007


def _validate(adapter: TypeAdapter[Any], raw: bytes) -> Any:
    return adapter.validate_json(raw, strict=True)


def test_a_restarting_run_writes_files_that_fit_the_contracts(tmp_path: Path) -> None:
    crash = f"[{PY}, -c, 'import sys, time; time.sleep(0.6); sys.exit(3)']"
    profile = write_profile(tmp_path / "p.yaml", f"""
duration: 60s
interval: 0.2s
target:
  command: {crash}
  restart: on-failure
  max_restarts: 1
  backoff: {{base: 0.1s, max: 0.1s, jitter: 0}}
""")
    proc = run_cli(["run", "--profile", str(profile), "--out", str(tmp_path)], timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run_dir = run_dir_of(proc)

    run = _validate(TypeAdapter(RunJson), (run_dir / "run.json").read_bytes())
    assert run["exit_reason"] is ExitReason.GAVE_UP
    for line in (run_dir / "resources.jsonl").read_bytes().splitlines():
        _validate(TypeAdapter(Sample), line)
    kinds = []
    for line in (run_dir / "events.jsonl").read_bytes().splitlines():
        record = _validate(EVENT, line)
        kinds.append(record["event"])
    assert {Event.START, Event.EXIT, Event.RESTART, Event.GIVE_UP} <= set(kinds)
    assert [e["returncode"] for e in events(run_dir, "exit")] == [3, 3]
    analysis = _validate(TypeAdapter(AnalysisJson), (run_dir / "analysis.json").read_bytes())
    assert analysis["verdict"] == "fail"
    assert analysis["run"]["exit_reason"] is ExitReason.GAVE_UP
    assert json.loads((run_dir / "analysis.json").read_text())["samples"] == analysis["samples"]
