"""``soakctl cleanup``: ends what earlier runs recorded, by pid AND create time, with descendants.

Real processes stand in for a crashed run's leftovers; a process whose recorded create time
does not match (a reused pid) must survive, and so must the processes nobody recorded.
Runs on Linux and Windows (psutil does the killing).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import psutil

from tests.integration.soak.conftest import cli_env, soakctl, wait_for

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
PARENT = [sys.executable, "-c",
          "import subprocess, sys, time; "
          "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
          "print(c.pid, flush=True); time.sleep(600)"]


def _record(run_dir: Path, soakctl_proc: psutil.Process | None,
            starts: list[tuple[str, int, float]]) -> None:
    run_dir.mkdir(parents=True)
    if soakctl_proc is not None:
        meta = {"run_id": run_dir.name, "end_ts": None, "soakctl_process": {
            "pid": soakctl_proc.pid, "create_time": soakctl_proc.create_time()}}
        (run_dir / "run.json").write_text(json.dumps(meta))
    lines = [json.dumps({"ts": 1.0, "event": "start", "name": name, "pid": pid, "argv": ["x"],
                         "attempt": 0, "create_time": created}) for name, pid, created in starts]
    lines.append('{"ts": 2.0, "event": "exit", "name": "target", "pid": 1, "returncode": 0}')
    lines.append('{"ts": 3.0, "event": "sta')  # truncated: soakctl was killed mid-write
    (run_dir / "events.jsonl").write_text("\n".join(lines))


def _cleanup(*args: str, env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([soakctl(), "cleanup", *args], capture_output=True, text=True,
                          timeout=120, env=env or cli_env(), stdin=subprocess.DEVNULL,
                          check=False)


def test_cleanup_ends_recorded_processes_and_spares_reused_pids(tmp_path: Path) -> None:
    procs: list[subprocess.Popen[str]] = []
    try:
        parent = subprocess.Popen(PARENT, stdout=subprocess.PIPE, text=True,
                                  stdin=subprocess.DEVNULL)
        procs.append(parent)
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        fake_soakctl, reused, stranger = (subprocess.Popen(SLEEPER, stdin=subprocess.DEVNULL)
                                          for _ in range(3))
        procs += [fake_soakctl, reused, stranger]
        ps = {p.pid: psutil.Process(p.pid) for p in procs}
        runs = tmp_path / "runs"
        _record(runs / "1234-1" / "20261202T000000Z", ps[fake_soakctl.pid],
                [("target", parent.pid, ps[parent.pid].create_time())])
        _record(runs / "20261201T000000Z", None,
                [("exchange", reused.pid, ps[reused.pid].create_time() - 3600.0)])
        (runs / "not-a-run").mkdir()

        dry = _cleanup("--runs-dir", str(runs), "--dry-run", "--json")
        assert dry.returncode == 0, dry.stderr
        planned = json.loads(dry.stdout)
        assert planned["runs"] == 2 and planned["recorded"] == 3
        assert {k["pid"] for k in planned["killed"]} == {fake_soakctl.pid, parent.pid, child}
        assert all(p.is_running() for p in ps.values()) and psutil.pid_exists(child)

        done = _cleanup("--runs-dir", str(runs))
        assert done.returncode == 0, done.stderr
        assert f"ended pid {parent.pid} (target," in done.stdout
        assert "3 ended, 0 survived" in done.stdout
        for proc in (parent, fake_soakctl):
            proc.wait(timeout=30)
        wait_for(lambda: not psutil.pid_exists(child) or
                 psutil.Process(child).status() == psutil.STATUS_ZOMBIE,
                 timeout=30, what="the orphaned child to end")
        assert reused.poll() is None and stranger.poll() is None  # never recorded as theirs

        again = _cleanup("--runs-dir", str(runs), "--json")
        assert json.loads(again.stdout)["killed"] == []
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            if proc.stdout is not None:
                proc.stdout.close()


def test_cleanup_of_a_missing_directory_is_bad_input(tmp_path: Path) -> None:
    proc = _cleanup("--runs-dir", str(tmp_path / "nope"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope" in lines[0] and "not a directory" in lines[0]


def test_cleanup_ends_a_hung_real_run_and_everything_it_supervised(tmp_path: Path) -> None:
    """A real `soakctl run`, frozen (as a run the runner lost track of), is ended by the next
    job's `soakctl cleanup` from what it recorded itself; its guard / job objects then end the
    target's whole tree, orphan included; the credentials directory it could not remove goes
    too."""
    pids_file = tmp_path / "tree.json"
    spawner = Path(__file__).parent / "targets" / "spawner.py"
    out = tmp_path / "runs"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = cli_env()
    env.update(TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp))
    # The extra "{secrets_dir}" argument (ignored by the target) makes the run create one.
    soak = subprocess.Popen([sys.executable, "-m", "soakctl", "run", "--duration", "10m",
                             "--interval", "0.5s", "--no-analyze", "--out", str(out), "--",
                             sys.executable, str(spawner), str(pids_file), "{secrets_dir}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=env)
    tree: dict[str, object] = {}
    try:
        tree = wait_for(lambda: pids_file.exists() and json.loads(pids_file.read_text()),
                        timeout=120, what="the target's tree")
        run_json = wait_for(lambda: next(out.glob("*/run.json"), None), timeout=30,
                            what="run.json")
        holder = psutil.Process(json.loads(run_json.read_text())["soakctl_process"]["pid"])
        holder.suspend()  # hung: alive, holding its trees, doing nothing
        secrets = list(tmp.glob(f"soakctl-secrets-{holder.pid}-*"))
        assert len(secrets) == 1 and secrets[0].is_dir()

        done = _cleanup("--runs-dir", str(out), "--json", env=env)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        ended = {k["pid"] for k in report["killed"]}
        assert holder.pid in ended and tree["target"] in ended
        assert report["secrets_removed"] == [str(secrets[0])]
        assert not secrets[0].exists()
        soak.wait(timeout=60)
        members = [tree["target"], tree["grandchild"], *tree["children"]]  # type: ignore[list-item]
        wait_for(lambda: not any(psutil.pid_exists(p) and psutil.Process(p).status()
                                 != psutil.STATUS_ZOMBIE for p in members),
                 timeout=30, what="the run's tree to end")
    finally:
        if soak.poll() is None:
            soak.kill()
            soak.wait(timeout=30)
        for key in ("target", "grandchild"):
            if key in tree:
                with contextlib.suppress(psutil.Error):
                    psutil.Process(tree[key]).kill()  # type: ignore[arg-type]
