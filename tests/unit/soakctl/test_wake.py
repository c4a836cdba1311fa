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


def test_a_child_exit_wakes_the_waker_once_sigchld_is_routed_to_it_and_only_then_says_reap(
) -> None:
    """An unwatched child (an adopted orphan, say) exiting ends the wait through SIGCHLD, and
    take_child_exits() says reap after it but not after a quiet timeout; close() gives SIGCHLD
    and the wake-up fd back."""
    import signal

    before = signal.getsignal(signal.SIGCHLD)
    fd_before = signal.set_wakeup_fd(-1)  # read it (and put it back)
    signal.set_wakeup_fd(fd_before)
    waker = _waker()
    try:
        assert waker.catch_child_exits()
        assert waker.take_child_exits()  # a child may have exited before: reap once
        assert not waker.take_child_exits()
        waker.wait(0.2)  # nothing happened
        assert not waker.take_child_exits()
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
        try:
            t0 = time.monotonic()
            waker.wait(60)  # the child is not watched: only its SIGCHLD can end this early
            assert time.monotonic() - t0 < 30
            assert waker.take_child_exits()
            assert not waker.take_child_exits()
        finally:
            child.wait(timeout=30)
    finally:
        waker.close()
    assert signal.getsignal(signal.SIGCHLD) == before
    assert signal.set_wakeup_fd(fd_before) == fd_before  # nothing routed to the closed pipe


def test_outside_the_main_thread_sigchld_is_not_routed_and_the_loop_always_reaps() -> None:
    waker = _waker()
    result: list[bool] = []
    try:
        thread = threading.Thread(target=lambda: result.extend(
            [waker.catch_child_exits(), waker.take_child_exits(), waker.take_child_exits()]))
        thread.start()
        thread.join(timeout=30)
        assert result == [False, True, True]
    finally:
        waker.close()
