"""The supervisor's job-object hooks, wired up with real processes and a recording JobSet.

Job objects exist only on Windows (tests/unit/soakctl/test_winjob.py runs them there); this
test substitutes a JobSet subclass that records the calls and reports a pid of our choosing as
a job member, so the wiring runs on Linux too: spawn flags pass through ``popen_kwargs``, every
start is ``admit``-ted under its name, a job member the tree walk cannot see (as an orphan on
Windows) is adopted into the tree, sampled, and killed by the stop, which ends in
``terminate``; ``close`` closes the jobs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil

from soakctl import winjob
from soakctl.clock import SystemClock
from soakctl.procfs import default_reader
from soakctl.supervise import Supervisor
from tests.integration.soak.conftest import alive, wait_for

SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]


class RecordingJobSet(winjob.NullJobSet):
    """Stands in for Windows job objects (which cannot exist here); records every hook."""

    def __init__(self, members: dict[str, list[int]]) -> None:
        super().__init__()
        self.members = members
        self.calls: list[tuple[str, Any]] = []

    def popen_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("popen_kwargs", dict(kwargs)))
        return kwargs

    def admit(self, name: str, popen: subprocess.Popen[bytes]) -> None:
        self.calls.append(("admit", (name, popen.pid)))

    def pids(self, name: str) -> list[int]:
        return list(self.members.get(name, []))

    def terminate(self, name: str) -> None:
        self.calls.append(("terminate", name))

    def close(self) -> None:
        self.calls.append(("close", None))


def test_supervisor_drives_the_job_hooks(tmp_path: Path) -> None:
    # Not a descendant of the target: invisible to its tree walk, as an orphan is on Windows.
    outsider = subprocess.Popen(SLEEP, stdin=subprocess.DEVNULL, start_new_session=True)
    events: list[tuple[str, str, dict[str, Any]]] = []
    reader = default_reader()
    sup = Supervisor(tmp_path / "logs", clock=SystemClock(), reader=reader,
                     emit=lambda event, name, **f: events.append((event, name, f)),
                     max_log_bytes=1 << 20, keep_logs=1)
    jobs = RecordingJobSet({"target": [outsider.pid]})
    sup.jobs = jobs
    try:
        (tmp_path / "logs").mkdir()
        handle = sup.spawn("target", SLEEP, env={}, cwd=None, stop_signal="SIGTERM",
                           stop_timeout_s=5.0)
        assert ("admit", ("target", handle.pid)) in jobs.calls
        assert jobs.calls[0][0] == "popen_kwargs"
        start = next(f for e, n, f in events if e == "start")
        assert abs(start["create_time"] - psutil.Process(handle.pid).create_time()) < 0.5

        handle.tree.refresh()
        assert outsider.pid not in handle.tree.pids()
        sup.adopt_orphans({"target": handle.tree}, "target")
        handle.tree.refresh()
        assert set(handle.tree.pids()) == {handle.pid, outsider.pid}

        sup.stop(handle, "test")
        assert ("terminate", "target") in jobs.calls
        killed = next(f for e, n, f in events if e == "kill")
        assert outsider.pid in killed["pids"]  # a job member is stopped with the tree
        # Killed and reaped (by the supervisor's waitpid(-1): it is a child of this process).
        wait_for(lambda: not alive(outsider.pid), timeout=30, what="the job member to end")
    finally:
        sup.close()
        if outsider.poll() is None:
            outsider.kill()
        outsider.wait(timeout=30)
    assert jobs.calls[-1] == ("close", None)
