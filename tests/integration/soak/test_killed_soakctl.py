"""soakctl killed mid-run (SIGKILL on Linux, TerminateProcess on Windows) leaves nothing behind.

A profile with a service and a target that each spawn two children and an orphaned grandchild.
Once the target's whole tree (orphan included) is in the samples, soakctl itself (the process
that holds the guard pipe on Linux, the job handles on Windows) is killed without warning;
every process the run recorded in events.jsonl or that the targets started must be gone within
a bound. This is the Windows runner's acceptance test for kill-on-close job objects, and the
guard's on Linux.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from pathlib import Path

import psutil

from tests.integration.soak.conftest import (
    PY,
    TARGETS,
    cli_env,
    events,
    read_jsonl,
    wait_for,
    write_profile,
)

GONE_WITHIN_S = 30.0


def _pids(path: Path) -> dict[str, object] | None:
    try:
        data: dict[str, object] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return None


def _identity(pid: int) -> tuple[int, float] | None:
    try:
        return pid, psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _still_there(ident: tuple[int, float]) -> bool:
    pid, created = ident
    try:
        proc = psutil.Process(pid)
        return abs(proc.create_time() - created) < 0.5 and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_killed_soakctl_takes_every_supervised_process_with_it(tmp_path: Path) -> None:
    svc_file, tgt_file = tmp_path / "svc.json", tmp_path / "tgt.json"
    spawner = str(TARGETS / "spawner.py")
    profile = write_profile(tmp_path / "p.yaml", f"""
name: killed
duration: 10m
interval: 0.5s
services:
  - name: helper
    command: [{json.dumps(PY)}, {json.dumps(spawner)}, {json.dumps(str(svc_file))}]
    ready: {{file: {json.dumps(str(svc_file))}, timeout: 60s}}
target:
  command: [{json.dumps(PY)}, {json.dumps(spawner)}, {json.dumps(str(tgt_file))}]
""")
    out = tmp_path / "out"
    soak = subprocess.Popen([PY, "-m", "soakctl", "run", "--profile", str(profile), "--out",
                             str(out), "--no-analyze"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=cli_env())
    idents: list[tuple[int, float]] = []
    try:
        assert soak.stdout is not None
        run_dir = Path(soak.stdout.readline().decode().strip())
        svc = wait_for(lambda: _pids(svc_file), timeout=120, what="the service's tree")
        tgt = wait_for(lambda: _pids(tgt_file), timeout=120, what="the target's tree")
        # The target's tree is sampled whole: target, 2 children and the orphan (a console
        # launcher in front of an interpreter would add one, hence >=).
        wait_for(lambda: any(s["num_procs"] >= 4 for s in read_jsonl(run_dir / "resources.jsonl")),
                 timeout=120, what="a sample with the whole tree")
        started = events(run_dir, "start")
        assert {e["name"] for e in started} == {"helper", "target"}
        assert all(e["create_time"] for e in started)
        pids = {e["pid"] for e in started}
        for tree in (svc, tgt):
            pids |= {tree["target"], tree["grandchild"], *tree["children"]}  # type: ignore[misc]
        idents = [i for p in sorted(pids) if (i := _identity(p)) is not None]
        assert len(idents) == len(pids), "a recorded process died before soakctl was killed"

        owner = json.loads((run_dir / "run.json").read_text())["soakctl_process"]
        holder = psutil.Process(owner["pid"])  # the interpreter holding the jobs / guard pipe
        assert abs(holder.create_time() - owner["create_time"]) < 0.5
        holder.kill()  # SIGKILL / TerminateProcess: no handler, no finally, no atexit
        soak.wait(timeout=60)

        deadline = time.monotonic() + GONE_WITHIN_S
        left = idents
        while left and time.monotonic() < deadline:
            left = [i for i in left if _still_there(i)]
            time.sleep(0.1)
        assert not left, f"still running {GONE_WITHIN_S}s after soakctl was killed: {left}"
    finally:
        if soak.poll() is None:
            soak.kill()
            soak.wait(timeout=30)
        if soak.stdout is not None:
            soak.stdout.close()
        for ident in idents:  # never leave a process behind, whatever failed above
            if _still_there(ident):
                with contextlib.suppress(psutil.Error):
                    psutil.Process(ident[0]).kill()

