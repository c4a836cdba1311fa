"""Fault injection: the docs/cli.md §8 fault names, their parsing, and the seeded dice that fire
them.

A fault spec is ``name=value`` items separated by commas on the command line, or the same names
as a JSON object at ``POST /sim/faults`` (``{}`` clears all). Rates are probabilities per
request; ``*_every_s`` faults fire periodically (the scheduler in :mod:`bot.sim.server` asks
:meth:`FaultState.due`); ``latency_ms`` is ``5`` or a uniform range ``5..50``. Every injection
is counted per name and shown in ``/sim/stats``.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

# name -> (kind, help). Kinds: "rate" in [0, 1], "period" seconds > 0, "duration" seconds > 0,
# "duration_ms" ms > 0, "range" ms "a" or "a..b", "int" ms (may be negative).
FAULTS: dict[str, tuple[str, str]] = {
    "ws_drop_every_s": ("period", "abort every public and private socket (client sees 1006)"),
    "ws_stall_every_s": ("period", "stop sending on every socket for ws_stall_s, socket open"),
    "ws_stall_s": ("duration", "length of a stall (default 5)"),
    "book_gap_every_s": ("period", "skip one orderbook update id u"),
    "book_reset_every_s": ("period", "push a u=1 snapshot (service restart)"),
    "book_dup_every_s": ("period", "send one orderbook delta twice"),
    "book_reorder_every_s": ("period", "swap the order of two consecutive orderbook deltas"),
    "book_crossed_every_s": ("period", "push a delta whose best bid is above the best ask"),
    "book_stale_every_s": ("period", "freeze orderbook pushes for book_stale_s"),
    "book_stale_s": ("duration", "length of a book freeze (default 5)"),
    "http_5xx_rate": ("rate", "answer a REST request with HTTP 503"),
    "http_10016_rate": ("rate", "answer a REST request with retCode 10016"),
    "rate_limit_rate": ("rate", "answer a REST request with retCode 10006"),
    "error_burst_ms": ("duration_ms", "after a 5xx/10016/10006 fires, repeat it this long"),
    "latency_ms": ("range", "added REST latency, '5' or uniform '5..50'"),
    "ghost_order_rate": ("rate", "accept an order, then never answer (connection dropped)"),
    "clock_skew_ms": ("int", "server clock offset for time, timestamps and the 10002 check"),
}
DEFAULT_DURATION_S = 5.0
# A periodic fault with a duration starts its next period when the current one has ended.
DURATION_OF = {"ws_stall_every_s": "ws_stall_s", "book_stale_every_s": "book_stale_s"}
BURSTY = frozenset({"http_5xx_rate", "http_10016_rate", "rate_limit_rate"})


class FaultSpecError(ValueError):
    """A fault item is unknown or its value is invalid; the message names the item."""


def _coerce(name: str, value: Any) -> float | int | tuple[float, float]:
    if name not in FAULTS:
        known = ", ".join(sorted(FAULTS))
        raise FaultSpecError(f"unknown fault {name!r} (known: {known})")
    kind = FAULTS[name][0]
    text = str(value).strip()
    try:
        if kind == "range":
            low_text, sep, high_text = text.partition("..")
            low = float(low_text)
            high = float(high_text) if sep else low
            if not 0 <= low <= high <= 60_000:
                raise ValueError
            return (low, high)
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError
            return int(text)
        number = float(text)
    except ValueError:
        raise FaultSpecError(f"fault {name}: invalid value {text!r}") from None
    if isinstance(value, bool) or number != number:
        raise FaultSpecError(f"fault {name}: invalid value {text!r}")
    if kind == "rate" and not 0.0 <= number <= 1.0:
        raise FaultSpecError(f"fault {name}: rate must be in [0, 1], got {text}")
    if kind in ("period", "duration") and not 0.0 < number <= 86_400:
        raise FaultSpecError(f"fault {name}: seconds must be in (0, 86400], got {text}")
    if kind == "duration_ms" and not 0.0 < number <= 600_000:
        raise FaultSpecError(f"fault {name}: ms must be in (0, 600000], got {text}")
    return number


def parse_spec(spec: str) -> dict[str, float | int | tuple[float, float]]:
    """``"http_5xx_rate=0.1,latency_ms=5..50"`` → validated mapping."""
    result: dict[str, float | int | tuple[float, float]] = {}
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep:
            raise FaultSpecError(f"fault item {item!r}: expected name=value")
        result[name.strip()] = _coerce(name.strip(), value)
    return result


def parse_mapping(data: object) -> dict[str, float | int | tuple[float, float]]:
    """The JSON body of ``POST /sim/faults`` → validated mapping."""
    if not isinstance(data, dict):
        raise FaultSpecError("faults body must be a JSON object")
    return {str(k): _coerce(str(k), v) for k, v in data.items()}


def render(value: float | int | tuple[float, float]) -> float | int | str:
    if isinstance(value, tuple):
        low, high = value
        return f"{low:g}" if low == high else f"{low:g}..{high:g}"
    return value


@dataclass(slots=True)
class _Periodic:
    period_s: float
    next_due: float


class FaultState:
    """Active faults, their seeded random source, schedules and injection counters."""

    def __init__(self, seed: int, active: dict[str, float | int | tuple[float, float]]) -> None:
        self._rng = random.Random(seed ^ 0xFA017)  # noqa: S311 (seeded, not crypto)
        self.injected: Counter[str] = Counter()
        self.active: dict[str, float | int | tuple[float, float]] = {}
        self._periodic: dict[str, _Periodic] = {}
        self._burst_until: dict[str, float] = {}
        self.set(active)

    def set(self, active: dict[str, float | int | tuple[float, float]]) -> None:
        """Replace the active set (``{}`` clears); periodic faults restart their timers."""
        self.active = dict(active)
        self._burst_until = {}
        now = time.monotonic()
        self._periodic = {
            name: _Periodic(float(value), now + float(value))  # type: ignore[arg-type]
            for name, value in self.active.items()
            if FAULTS[name][0] == "period"
        }

    def describe(self) -> dict[str, float | int | str]:
        return {name: render(value) for name, value in sorted(self.active.items())}

    def roll(self, name: str) -> bool:
        """True (and counted) with the active probability of rate fault ``name``; with
        ``error_burst_ms`` an error fault that fired keeps firing for that long (an outage)."""
        rate = self.active.get(name)
        if not rate:
            return False
        now = time.monotonic()
        if now < self._burst_until.get(name, 0.0):
            self.injected[name] += 1
            return True
        if self._rng.random() >= float(rate):  # type: ignore[arg-type]
            return False
        self.injected[name] += 1
        burst_ms = self.active.get("error_burst_ms")
        if burst_ms and name in BURSTY:
            self._burst_until[name] = now + float(burst_ms) / 1000  # type: ignore[arg-type]
        return True

    def latency_s(self) -> float:
        value = self.active.get("latency_ms")
        if not isinstance(value, tuple):
            return 0.0
        low, high = value
        if high <= 0:
            return 0.0
        self.injected["latency_ms"] += 1
        return (low if low == high else self._rng.uniform(low, high)) / 1000.0

    def duration_s(self, name: str) -> float:
        return float(self.active.get(name, DEFAULT_DURATION_S))  # type: ignore[arg-type]

    @property
    def clock_skew_ms(self) -> int:
        return int(self.active.get("clock_skew_ms", 0))  # type: ignore[arg-type]

    def due(self, now: float) -> list[str]:
        """Periodic faults whose time has come (not yet counted: see :meth:`fired`)."""
        return [name for name, p in self._periodic.items() if now >= p.next_due]

    def fired(self, name: str, now: float, *, applied: bool) -> None:
        """Record a periodic fault's attempt; an unapplied one is retried on the next check."""
        periodic = self._periodic.get(name)
        if periodic is None or not applied:
            return
        busy_s = self.duration_s(DURATION_OF[name]) if name in DURATION_OF else 0.0
        periodic.next_due = now + busy_s + periodic.period_s
        self.injected[name] += 1

    def count(self, name: str) -> None:
        self.injected[name] += 1
