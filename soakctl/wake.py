"""Sleep until the next sample, a supervised process's exit, or a stop request: one wake-up.

The run loop used to wake every 0.5 s between samples just to notice exits; each wake-up of an
idle Python process costs as much CPU as a small sample (cold caches), so at 1 Hz half of
soakctl's own cost was polling. On Linux (5.3+) a *pidfd* (``os.pidfd_open``) becomes readable
when its process exits, so the loop sleeps in one ``poll()`` on the pidfds of the supervised
roots plus a self-pipe that :meth:`ExitWaker.wake` writes (a stop request from a signal handler
or another thread). Elsewhere :meth:`ExitWaker.create` returns None and the loop keeps its
short polling tick.

Orphans the supervisor adopts (a subreaper gets them when their parent dies) are children too,
and reaping them needs a ``wait4`` per tick unless something says a child exited:
:meth:`ExitWaker.catch_child_exits` routes ``SIGCHLD`` to the self-pipe
(``signal.set_wakeup_fd``, main thread only), and :meth:`ExitWaker.take_child_exits` tells the
loop whether anything has woken it since it last reaped. A quiet tick then makes no ``wait4``.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
from typing import Any


class ExitWaker:
    def __init__(self) -> None:
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self._poll = select.poll()
        self._poll.register(self._r, select.POLLIN)
        self._pidfds: dict[int, int] = {}  # pid -> pidfd (-1: exit already reported)
        # SIGCHLD routed here (catch_child_exits): what to restore, and whether a child may
        # have exited since take_child_exits() last said so (True until routed: always reap).
        self._restore: tuple[int, Any] | None = None
        self._child_exit = True

    @classmethod
    def create(cls) -> ExitWaker | None:
        """A waker, or None where pidfds are unavailable (not Linux, kernel < 5.3, seccomp)."""
        pidfd_open = getattr(os, "pidfd_open", None)
        if pidfd_open is None or not hasattr(select, "poll"):
            return None
        try:
            os.close(pidfd_open(os.getpid()))
        except OSError:
            return None
        return cls()

    def watch(self, pids: list[int]) -> None:
        """Watch exactly ``pids`` (the supervised roots alive now); cheap when unchanged."""
        known = self._pidfds
        if len(pids) == len(known) and all(pid in known for pid in pids):
            return
        wanted = set(pids)
        for pid in list(self._pidfds):
            if pid not in wanted:
                self._forget(pid)
        for pid in wanted - self._pidfds.keys():
            try:
                fd = os.pidfd_open(pid)
            except OSError:  # already gone (and reaped): the loop's poll has seen it
                self._pidfds[pid] = -1
                continue
            self._pidfds[pid] = fd
            self._poll.register(fd, select.POLLIN)

    def _forget(self, pid: int) -> None:
        fd = self._pidfds.pop(pid)
        if fd >= 0:
            with contextlib.suppress(KeyError, ValueError):
                self._poll.unregister(fd)
            os.close(fd)

    def catch_child_exits(self) -> bool:
        """Route ``SIGCHLD`` to this waker until :meth:`close`; False where it cannot be (not
        the main thread, no ``SIGCHLD``): then :meth:`take_child_exits` always says True."""
        sigchld = getattr(signal, "SIGCHLD", None)
        if (self._restore is not None or sigchld is None
                or threading.current_thread() is not threading.main_thread()):
            return self._restore is not None
        try:
            old_fd = signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
        except (ValueError, OSError):
            return False
        try:
            # A handler (not SIG_DFL) so the signal reaches the wake-up fd; never SIG_IGN,
            # which would make the kernel reap children (and lose their exit codes) itself.
            old_handler = signal.signal(sigchld, _on_sigchld)
        except (ValueError, OSError):
            signal.set_wakeup_fd(old_fd)
            return False
        self._restore = (old_fd, old_handler)
        self._child_exit = True  # one that exited before: reap once
        return True

    def take_child_exits(self) -> bool:
        """Whether a child may have exited since the last call (a ``SIGCHLD``, a watched exit,
        any wake-up): the loop reaps only then. Always True unless SIGCHLD is routed here."""
        if self._restore is None:
            return True
        seen, self._child_exit = self._child_exit, False
        return seen

    def wake(self) -> None:
        """Make the current or next :meth:`wait` return now (async-signal and thread safe)."""
        with contextlib.suppress(OSError):  # a full pipe already holds a wake-up
            os.write(self._w, b"\0")

    def wait(self, timeout_s: float) -> None:
        """Block until ``timeout_s`` passes, a watched process exits, or :meth:`wake`."""
        for fd, _mask in self._poll.poll(max(0, int(timeout_s * 1000) + 1)):
            # A wake-up of any kind may carry a SIGCHLD (the pipe holds one byte per signal,
            # and a full pipe drops some): reap after every one rather than decode them.
            self._child_exit = True
            if fd == self._r:
                with contextlib.suppress(OSError):
                    while os.read(self._r, 4096):
                        pass
                continue
            # Report an exit once: the fd stays readable until the caller reaps the process
            # and stops watching it; never spin on it meanwhile.
            with contextlib.suppress(KeyError, ValueError):
                self._poll.unregister(fd)

    def close(self) -> None:
        """Stop watching; give SIGCHLD and the wake-up fd back to what they were (main thread)."""
        restore, self._restore = self._restore, None
        if restore is not None:
            handler = signal.SIG_DFL if restore[1] is None else restore[1]  # None: set in C
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(signal.SIGCHLD, handler)
                signal.set_wakeup_fd(restore[0])
        for pid in list(self._pidfds):
            self._forget(pid)
        for fd in (self._r, self._w):
            with contextlib.suppress(OSError):
                os.close(fd)


def _on_sigchld(signum: int, frame: object) -> None:
    """Nothing to do here: the signal's byte on the wake-up fd is what ends the wait."""
