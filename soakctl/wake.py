"""Sleep until the next sample, a supervised process's exit, or a stop request: one wake-up.

The run loop used to wake every 0.5 s between samples just to notice exits; each wake-up of an
idle Python process costs as much CPU as a small sample (cold caches), so at 1 Hz half of
soakctl's own cost was polling. On Linux (5.3+) a *pidfd* (``os.pidfd_open``) becomes readable
when its process exits, so the loop sleeps in one ``poll()`` on the pidfds of the supervised
roots plus a self-pipe that :meth:`ExitWaker.wake` writes (a stop request from a signal handler
or another thread). Elsewhere :meth:`ExitWaker.create` returns None and the loop keeps its
short polling tick.
"""

from __future__ import annotations

import contextlib
import os
import select


class ExitWaker:
    def __init__(self) -> None:
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self._poll = select.poll()
        self._poll.register(self._r, select.POLLIN)
        self._pidfds: dict[int, int] = {}  # pid -> pidfd (-1: exit already reported)

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

    def wake(self) -> None:
        """Make the current or next :meth:`wait` return now (async-signal and thread safe)."""
        with contextlib.suppress(OSError):  # a full pipe already holds a wake-up
            os.write(self._w, b"\0")

    def wait(self, timeout_s: float) -> None:
        """Block until ``timeout_s`` passes, a watched process exits, or :meth:`wake`."""
        for fd, _mask in self._poll.poll(max(0, int(timeout_s * 1000) + 1)):
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
        for pid in list(self._pidfds):
            self._forget(pid)
        for fd in (self._r, self._w):
            with contextlib.suppress(OSError):
                os.close(fd)
