"""Time, injected: a small clock protocol, the system clock, and a fake clock for tests.

Scheduling (sampling ticks, restart backoff, grace periods) runs on the monotonic clock so a
wall-clock jump never stretches or squeezes a run; sample timestamps use wall time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    def wait(self, event: threading.Event, timeout_s: float) -> bool:
        """Block until ``event`` is set or ``timeout_s`` passes; True if the event was set."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, timeout_s: float) -> bool:
        return event.wait(max(0.0, timeout_s))


class FakeClock:
    """Advances only when told to, or when something waits on it (time passes instantly)."""

    def __init__(self, start_monotonic: float = 1000.0, start_time: float = 1_780_000_000.0):
        self._mono = start_monotonic
        self._offset = start_time - start_monotonic
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self._mono

    def time(self) -> float:
        return self._mono + self._offset

    def advance(self, seconds: float) -> None:
        self._mono += seconds

    def wait(self, event: threading.Event, timeout_s: float) -> bool:
        if event.is_set():
            return True
        self.waits.append(timeout_s)
        self._mono += max(0.0, timeout_s)
        return event.is_set()
