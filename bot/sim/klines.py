"""Candles and the recent-trade tape, built from the simulator's own public trades.

Every public print (``publicTrade`` item) is recorded once: into a bounded tape for
``/v5/market/recent-trade`` and into contiguous one-minute candles, from which every longer
interval of ``/v5/market/kline`` and the ``kline.{interval}.{symbol}`` topic is aggregated. So
REST klines, the kline stream and recent-trade agree by construction. Minutes without a trade
are flat candles at the previous close with zero volume, as Bybit shows them. Before the first
trade, a seeded warm-up history (``kline_history_minutes``, a random walk ending at the start
price) stands in for the days before the simulator started (docs/simulator.md, "The market model").

Prices are integer ticks and volumes integer lots; turnover is ticks x lots, rendered exactly.
"""

from __future__ import annotations

import calendar
import math
import random
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.sim.instruments import Instrument, fmt_fixed

MINUTE_MS = 60_000
# Bybit's kline intervals: minutes, or D / W / M (calendar day, week from Monday, month).
INTERVAL_MINUTES = {
    "1": 1,
    "3": 3,
    "5": 5,
    "15": 15,
    "30": 30,
    "60": 60,
    "120": 120,
    "240": 240,
    "360": 360,
    "720": 720,
    "D": 1440,
    "W": 10080,
}
INTERVALS = (*INTERVAL_MINUTES, "M")
KEPT_MINUTES = 7 * 1440  # one week of 1m candles per symbol (~1 MB)
TAPE_TRADES = 1000  # recent-trade's maximum limit for linear


class Candle:
    """One candle in ticks and lots; ``start_ms`` is the open time."""

    __slots__ = (
        "close",
        "high",
        "low",
        "open",
        "row",
        "start_ms",
        "traded",
        "turnover_units",
        "volume_lots",
    )

    def __init__(self, start_ms: int, price: int) -> None:
        self.start_ms = start_ms
        self.open = self.high = self.low = self.close = price
        self.volume_lots = 0
        self.turnover_units = 0  # ticks x lots
        self.row: list[str] | None = None  # rendered once closed (it never changes again)
        self.traded = False  # until the first print it is flat at the previous close

    def add(self, ticks: int, lots: int) -> None:
        if not self.traded:  # the first print opens the candle
            self.traded = True
            self.open = self.high = self.low = ticks
        if ticks > self.high:
            self.high = ticks
        if ticks < self.low:
            self.low = ticks
        self.close = ticks
        self.volume_lots += lots
        self.turnover_units += ticks * lots

    def merge(self, other: Candle) -> None:
        self.high = max(self.high, other.high)
        self.low = min(self.low, other.low)
        self.close = other.close
        self.volume_lots += other.volume_lots
        self.turnover_units += other.turnover_units


def bucket_start(start_ms: int, interval: str) -> int:
    """Open time of the ``interval`` candle containing ``start_ms`` (UTC)."""
    if interval == "M":
        tm = time.gmtime(start_ms // 1000)
        return calendar.timegm((tm.tm_year, tm.tm_mon, 1, 0, 0, 0)) * 1000
    if interval == "W":
        monday = 4 * 1440 * MINUTE_MS  # 1970-01-05 was a Monday
        week = 7 * 1440 * MINUTE_MS
        return (start_ms - monday) // week * week + monday
    size = INTERVAL_MINUTES[interval] * MINUTE_MS
    return start_ms // size * size


def interval_ms(start_ms: int, interval: str) -> int:
    """Length of the candle opening at ``start_ms``."""
    if interval == "M":
        tm = time.gmtime(start_ms // 1000)
        return calendar.monthrange(tm.tm_year, tm.tm_mon)[1] * 1440 * MINUTE_MS
    return INTERVAL_MINUTES[interval] * MINUTE_MS


@dataclass(slots=True)
class SymbolTape:
    """The recent prints and 1m candles of one instrument."""

    inst: Instrument
    minutes: deque[Candle] = field(default_factory=lambda: deque(maxlen=KEPT_MINUTES))
    trades: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=TAPE_TRADES))
    _closed_rows: dict[str, dict[int, list[str]]] = field(default_factory=dict)

    def warm_up(self, now_ms: int, minutes: int, rng: random.Random) -> None:
        """Seeded history of ``minutes`` flat-volume candles ending at the start price."""
        start = self.inst.to_ticks(self.inst.start_price) or 1
        current = now_ms // MINUTE_MS * MINUTE_MS
        sigma = float(self.inst.start_price) * self.inst.daily_vol * math.sqrt(1 / 1440)
        sigma_ticks = max(1.0, sigma / float(self.inst.tick_size))
        mean_lots = float(self.inst.level_size_mean / self.inst.qty_step) * 60
        price = float(start)
        built: list[Candle] = []
        for index in range(1, minutes + 1):  # backwards in time from the start price
            close = max(1, round(price))
            price = max(10.0, price + rng.gauss(0.0, sigma_ticks))
            candle = Candle(current - index * MINUTE_MS, max(1, round(price)))
            swing = abs(rng.gauss(0.0, sigma_ticks / 2))
            lots = max(1, round(rng.expovariate(1 / mean_lots)))
            candle.high = round(max(candle.open, close) + swing)
            candle.low = max(1, round(min(candle.open, close) - swing))
            candle.close, candle.volume_lots, candle.traded = close, lots, True
            candle.turnover_units = lots * (candle.open + close) // 2
            built.append(candle)
        built.sort(key=lambda c: c.start_ms)
        self.minutes.extend(built)

    def _roll(self, now_ms: int) -> Candle:
        """The current minute's candle, appending flat candles for minutes without trades."""
        minute = now_ms // MINUTE_MS * MINUTE_MS
        if not self.minutes:
            start = self.inst.to_ticks(self.inst.start_price) or 1
            self.minutes.append(Candle(minute, start))
            return self.minutes[-1]
        last = self.minutes[-1]
        if minute <= last.start_ms:
            return last
        gap = (minute - last.start_ms) // MINUTE_MS
        for step in range(max(1, gap - KEPT_MINUTES), gap + 1):
            self.minutes.append(Candle(last.start_ms + step * MINUTE_MS, last.close))
        return self.minutes[-1]

    def record(self, trade: dict[str, Any]) -> None:
        """One ``publicTrade`` item (``T``, ``p``, ``v`` as the simulator renders them)."""
        inst = self.inst
        ticks = int(trade["p"].replace(".", "")) // inst.tick_units
        lots = int(trade["v"].replace(".", ""))
        self._roll(trade["T"]).add(ticks, lots)
        self.trades.append(trade)

    def candles(
        self, interval: str, start_ms: int, end_ms: int, limit: int, now_ms: int
    ) -> list[Candle]:
        """Up to ``limit`` candles of ``interval`` opening in ``[start_ms, end_ms]``, newest
        first (Bybit's order)."""
        self._roll(now_ms)
        out: list[Candle] = []
        current: Candle | None = None
        for minute in reversed(self.minutes):
            if minute.start_ms > end_ms:
                continue
            opening = bucket_start(minute.start_ms, interval)
            if opening < start_ms:
                break
            if current is None or current.start_ms != opening:
                if len(out) == limit:
                    break
                current = Candle(opening, minute.open)
                current.close = minute.close
                current.high, current.low = minute.high, minute.low
                current.volume_lots = minute.volume_lots
                current.turnover_units = minute.turnover_units
                current.traded = minute.traded
                out.append(current)
                continue
            # Walking backwards: this minute precedes what is aggregated so far. Minutes without
            # a print only fill in while nothing later in the bucket traded (OHLC = the prints).
            current.volume_lots += minute.volume_lots
            current.turnover_units += minute.turnover_units
            if minute.traded and current.traded:
                current.open = minute.open
                current.high = max(current.high, minute.high)
                current.low = min(current.low, minute.low)
            elif minute.traded or not current.traded:
                current.open, current.high, current.low = minute.open, minute.high, minute.low
                current.traded = minute.traded
        return out

    def rows(
        self, interval: str, start_ms: int, end_ms: int, limit: int, now_ms: int
    ) -> list[list[str]]:
        """:meth:`candles` rendered; closed candles are rendered once and reused, so a
        1,000-candle request costs little more than its serialisation."""
        inst = self.inst
        if interval != "1":
            cache = self._closed_rows.setdefault(interval, {})
            if len(cache) > 20_000:
                cache.clear()
            open_start = bucket_start(now_ms, interval)
            out = []
            for candle in self.candles(interval, start_ms, end_ms, limit, now_ms):
                if candle.start_ms == open_start:
                    out.append(render(inst, candle))
                    continue
                row = cache.get(candle.start_ms)
                if row is None:
                    row = cache[candle.start_ms] = render(inst, candle)
                out.append(row)
            return out
        current = self._roll(now_ms)
        rows: list[list[str]] = []
        for minute in reversed(self.minutes):
            if minute.start_ms > end_ms:
                continue
            if minute.start_ms < start_ms or len(rows) == limit:
                break
            if minute is current:
                rows.append(render(inst, minute))
                continue
            if minute.row is None:
                minute.row = render(inst, minute)
            rows.append(minute.row)
        return rows

    def current(self, interval: str, now_ms: int) -> Candle:
        return self.candles(interval, 0, now_ms, 1, now_ms)[0]

    def recent(self) -> Iterator[dict[str, Any]]:
        yield from reversed(self.trades)


def render(inst: Instrument, candle: Candle) -> list[str]:
    """``[startTime, open, high, low, close, volume, turnover]`` as Bybit's strings."""
    price = inst.price_str
    return [
        str(candle.start_ms),
        price(candle.open),
        price(candle.high),
        price(candle.low),
        price(candle.close),
        inst.qty_str(candle.volume_lots),
        fmt_fixed(candle.turnover_units * inst.tick_units, inst.price_scale + inst.qty_scale),
    ]


def render_price_only(inst: Instrument, candle: Candle) -> list[str]:
    """Mark/index price kline rows: ``[startTime, open, high, low, close]``."""
    return render(inst, candle)[:5]


def stream_item(inst: Instrument, candle: Candle, interval: str, now_ms: int) -> dict[str, Any]:
    """One ``kline.{interval}.{symbol}`` data item."""
    row = render(inst, candle)
    end = candle.start_ms + interval_ms(candle.start_ms, interval) - 1
    return {
        "start": candle.start_ms,
        "end": end,
        "interval": interval,
        "open": row[1],
        "close": row[4],
        "high": row[2],
        "low": row[3],
        "volume": row[5],
        "turnover": row[6],
        "confirm": now_ms > end,
        "timestamp": now_ms,
    }
