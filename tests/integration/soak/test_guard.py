"""The guard process: on EOF (soakctl died) it kills what it was told to watch, and only that."""

from __future__ import annotations

import subprocess
import sys

import pytest

from soakctl.procfs import default_reader
from tests.integration.soak.conftest import alive, kill_quietly

pytestmark = pytest.mark.linux_only("the POSIX guard process (Windows: job objects)")


def _guard(lines: list[str]) -> None:
    guard = subprocess.Popen([sys.executable, "-m", "soakctl.guard"], stdin=subprocess.PIPE)
    assert guard.stdin is not None
    guard.stdin.write("".join(f"{line}\n" for line in lines).encode())
    guard.stdin.close()  # EOF: as if soakctl had been SIGKILLed
    guard.wait(timeout=30)


def test_guard_kills_watched_pids_and_spares_dropped_ones() -> None:
    watched = subprocess.Popen(["sleep", "600"])
    dropped = subprocess.Popen(["sleep", "600"])
    group = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        reader = default_reader()
        starts = {p.pid: int(reader.read(p.pid).start) for p in (watched, dropped)}  # type: ignore[union-attr]
        _guard(
            [
                f"pid {watched.pid} {starts[watched.pid]}",
                f"pid {dropped.pid} {starts[dropped.pid]}",
                f"drop {dropped.pid}",
                f"pg {group.pid}",
            ]
        )
        watched.wait(timeout=10)
        group.wait(timeout=10)
        assert watched.returncode == -9 and group.returncode == -9
        assert alive(dropped.pid)
    finally:
        kill_quietly([watched.pid, dropped.pid, group.pid])
        for proc in (watched, dropped, group):
            proc.wait(timeout=10)


def test_guard_spares_a_recycled_pid_and_exits_quietly_on_done() -> None:
    other = subprocess.Popen(["sleep", "600"])
    try:
        _guard([f"pid {other.pid} 1"])  # a start time that is not this process's: pid recycled
        assert alive(other.pid)
        start = int(default_reader().read(other.pid).start)  # type: ignore[union-attr]
        _guard([f"pid {other.pid} {start}", "done"])  # soakctl finished cleanly: kill nothing
        assert alive(other.pid)
    finally:
        kill_quietly([other.pid])
        other.wait(timeout=10)
