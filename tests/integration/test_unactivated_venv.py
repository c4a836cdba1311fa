"""``.venv/bin/soakctl`` with the venv not activated (as the README runs it): ``verify`` and
``run`` resolve ``mmbot`` the same way, beside the interpreter (soakctl.commands)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import script

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX PATH layout"),
]


def _unactivated(env: dict[str, str]) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin]
    env = {k: v for k, v in env.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(path or ["/usr/bin", "/bin"])
    return env


def test_verify_and_run_find_mmbot_beside_the_interpreter(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    env = _unactivated(clean_env)
    assert subprocess.run(["sh", "-c", "command -v mmbot"], env=env, check=False,
                          capture_output=True).returncode != 0, "mmbot must not be on PATH here"
    soakctl = script("soakctl")
    assert Path(soakctl).is_absolute()
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "duration: 3s\ninterval: 0.5s\n"
        "target: {command: [mmbot, sim, --port, '0', --ready-file, '{run_dir}/sim.json']}\n"
        "after: [[mmbot, --help]]\n"
        "disk: {min_free: 1MB, critical_free: 0}\n"
    )
    verify = subprocess.run(
        [soakctl, "verify", "--profile", str(profile), "--only", "target-command", "--json"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    (check,) = json.loads(verify.stdout)["checks"]
    assert check["status"] == "pass", check
    assert str(Path(sys.executable).parent / "mmbot") in check["message"]

    run = subprocess.run(
        [soakctl, "run", "--profile", str(profile), "--out", str(tmp_path / "out"),
         "--no-analyze"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    run_dir = Path(run.stdout.splitlines()[0].strip())
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    start = next(e for e in events if e["event"] == "start" and e["name"] == "target")
    assert start["argv"][0] == str(Path(sys.executable).parent / "mmbot")
    (check_event,) = [e for e in events if e["event"] == "check"]
    assert check_event["ok"] and check_event["command"][0] == start["argv"][0]
