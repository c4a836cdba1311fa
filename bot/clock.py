"""Time, injected: a :class:`Clock` protocol, the real :class:`SystemClock` and a
:class:`FakeClock` for tests, so backoff, staleness and rate limits are tested in fake time."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    async def sleep(self, delay_s: float) -> None: ...


class SystemClock:
    """Wall and monotonic time of this host; sleeping is ``asyncio.sleep``."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, delay_s: float) -> None:
        await asyncio.sleep(delay_s)


class FakeClock:
    """A clock that only moves when told; ``sleep`` advances it at once and records the delay."""

    def __init__(self, start_s: float = 1_700_000_000.0) -> None:
        self.now_s = start_s
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now_s

    def time(self) -> float:
        return self.now_s

    def advance(self, delta_s: float) -> None:
        self.now_s += delta_s

    async def sleep(self, delay_s: float) -> None:
        self.sleeps.append(delay_s)
        self.now_s += delay_s
        await asyncio.sleep(0)
