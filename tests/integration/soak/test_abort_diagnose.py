"""Abort on a confident fail, and the diagnosis that names the leaking line.

The real bot against the real simulator under the bundled bot-sim profile; the clean run
uses a profile file with the live evaluation shortened (first after 60 s, then every 20 s), the
strictest schedule for a false abort.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from tests.conftest import REPO, script
from tests.integration.soak.conftest import PY, events, run_cli, run_dir_of


def _fast_profile(tmp_path: Path) -> Path:
    profile = yaml.safe_load((REPO / "workflows" / "bot-sim.yaml").read_text())
    profile["name"] = "bot-sim-fast-abort"
    profile["abort_on_fail"] = {"after": "60s", "every": "20s"}
    path = tmp_path / "bot-sim-fast.yaml"
    path.write_text(yaml.safe_dump(profile))
    return path


def _leak_line() -> str:
    source = (REPO / "bot" / "leak.py").read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if "hoard.append(" in text)
    return f"bot/leak.py:{line}"


def test_a_leaking_bot_is_aborted_early_and_its_leak_line_named(tmp_path: Path) -> None:
    started = time.monotonic()
    # The bundled profile and the default schedule (after 10m, every 2m): a leak this large
    # is overwhelming evidence, confirmed within minutes.
    proc = run_cli(["run", "--profile", "bot-sim", "--minutes", "30",
                    "--abort-on-fail", "--out", str(tmp_path / "out"), "--",
                    script("mmbot"), "run", "--inject-leak", "3600"], timeout=900)
    took = time.monotonic() - started
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert took < 600
    run_dir = run_dir_of(proc)
    run = json.loads((run_dir / "run.json").read_text())
    assert run["exit_reason"] == "aborted"
    assert "RSS leak" in run["abort_reason"] and run["aborted_at"] > run["start_ts"]
    assert run["end_ts"] - run["start_ts"] < 600
    assert events(run_dir, "abort") and events(run_dir, "leak_suspected")
    analysis = json.loads((run_dir / "analysis.json").read_text())
    assert analysis["verdict"] == "fail"
    assert analysis["reasons"][0].startswith("aborted early: RSS leak")
    assert analysis["run"]["exit_reason"] == "aborted"
    assert "aborted early" in (run_dir / "summary.md").read_text()
    assert "leak? " in proc.stdout  # the live estimate in the plain status lines
    # The diagnosis: snapshots at start, first live leak, end; the injected line on top.
    names = {p.name for p in (run_dir / "diagnose").iterdir()}
    assert {"start-smaps.json", "leak-smaps.json", "end-smaps.json", "start-tracemalloc.json",
            "end-tracemalloc.json", "diagnosis.json"} <= names
    top = analysis["diagnosis"][0]
    assert top["site"].endswith(_leak_line()), analysis["diagnosis"][:3]
    assert top["bytes"] > 20 * 2**20 and top["count"] > 0
    assert analysis["memory_map"]["by_kind"]
    report = (run_dir / "report.html").read_text()
    assert "Diagnosis" in report and _leak_line() in report


def test_the_same_soak_without_a_leak_runs_its_full_duration(tmp_path: Path) -> None:
    proc = run_cli(["run", "--profile", str(_fast_profile(tmp_path)), "--duration", "150s",
                    "--abort-on-fail", "--out", str(tmp_path / "out")], timeout=600)
    run_dir = run_dir_of(proc)
    run = json.loads((run_dir / "run.json").read_text())
    assert run["exit_reason"] == "duration_reached", proc.stdout[-3000:]
    assert "abort_reason" not in run and not events(run_dir, "abort")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_diagnose_commands_run_at_start_and_end(tmp_path: Path) -> None:
    profile = {
        "name": "diag", "interval": "0.5s",
        "target": {"command": [PY, "-c", "import time; time.sleep(600)"]},
        "diagnose": [[PY, "-c", "import os; print('pid', os.environ['SOAKCTL_TARGET_PID'], "
                      "os.environ['SOAKCTL_DIAGNOSE_MOMENT'])"]],
    }
    path = tmp_path / "diag.yaml"
    path.write_text(yaml.safe_dump(profile))
    proc = run_cli(["run", "--profile", str(path), "--duration", "10s", "--out",
                    str(tmp_path / "out")], timeout=120)
    run_dir = run_dir_of(proc)
    pid = events(run_dir, "start")[0]["pid"]
    for moment in ("start", "end"):
        out = (run_dir / "diagnose" / f"{moment}-1-{Path(PY).name}.txt").read_text()
        assert out.strip() == f"pid {pid} {moment}"
    assert (run_dir / "diagnose" / "start-smaps.json").is_file()
    diagnosis = json.loads((run_dir / "diagnose" / "diagnosis.json").read_text())
    assert [c["returncode"] for c in diagnosis["commands"]] == [0, 0]
    assert "by_kind" in diagnosis["smaps"]
