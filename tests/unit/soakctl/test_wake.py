"""The run loop's sleep (soakctl.wake): it ends on a watched child's exit or a wake-up from
another thread, not only at the deadline, and never spins on an exit already reported."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from soakctl.wake import ExitWaker

waker_or_none = ExitWaker.create()
pytestmark = pytest.mark.skipif(waker_or_none is None, reason="needs pidfds (Linux 5.3+)")


def _waker() -> ExitWaker:
    waker = ExitWaker.create()
    assert waker is not None
    return waker


def test_a_watched_child_exiting_ends_the_wait() -> None:
    waker = _waker()
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        waker.watch([child.pid])
        assert child.stdin is not None
        threading.Timer(0.3, child.stdin.close).start()  # EOF: the child exits
        t0 = time.monotonic()
        waker.wait(60)
        assert time.monotonic() - t0 < 30
        assert child.wait(timeout=10) == 0
        # Reported once: an exit not yet unwatched does not end the next wait at once.
        t0 = time.monotonic()
        waker.wait(0.3)
        assert time.monotonic() - t0 >= 0.25
        waker.watch([])
    finally:
        child.kill()
        child.wait(timeout=10)
        waker.close()


def test_wake_from_another_thread_ends_the_wait_and_is_not_lost_before_it() -> None:
    waker = _waker()
    try:
        threading.Timer(0.2, waker.wake).start()
        t0 = time.monotonic()
        waker.wait(60)
        assert time.monotonic() - t0 < 30
        waker.wake()  # before the wait: the wait returns at once
        t0 = time.monotonic()
        waker.wait(60)
        assert time.monotonic() - t0 < 5
        t0 = time.monotonic()  # and the wake-up was consumed
        waker.wait(0.3)
        assert time.monotonic() - t0 >= 0.25
    finally:
        waker.close()


def test_watching_a_pid_that_is_gone_is_harmless() -> None:
    waker = _waker()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    try:
        waker.watch([child.pid])  # reaped already: no pidfd, no error
        t0 = time.monotonic()
        waker.wait(0.2)
        assert time.monotonic() - t0 >= 0.15
    finally:
        waker.close()
