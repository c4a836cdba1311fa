"""The simulator's clock: wall time in ms as the exchange reports it, with an injectable skew.

``now_ms`` is what ``/v5/market/time``, every ``time`` field and the recv_window check (10002)
use; the ``clock_skew_ms`` fault shifts it. Tests may pass a :class:`FakeClock` instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    """``time.time()`` plus the skew returned by ``skew_ms`` (read on every call)."""

    __slots__ = ("_skew_ms",)

    def __init__(self, skew_ms: Callable[[], int] = lambda: 0) -> None:
        self._skew_ms = skew_ms

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self._skew_ms()


class FakeClock:
    """A clock that only moves when told to."""

    __slots__ = ("ms",)

    def __init__(self, ms: int = 1_700_000_000_000) -> None:
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms

    def advance(self, ms: int) -> None:
        self.ms += ms
