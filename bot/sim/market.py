"""The simulated rest of the market for one symbol: a seeded mid-price walk, synthetic depth
around it, and the sizes of taker market orders.

The engine drives it once per tick: :meth:`SymbolMarket.step_mid` moves the mid (jumps with
GARCH(1,1) variance, :mod:`bot.sim.market_model`), the engine sweeps whatever the move
crossed (that is how resting user orders get filled when the price trades through them: the
synthetic size queued ahead of them at their price trades first, in FIFO order),
:meth:`refresh_liquidity` re-lays synthetic depth around the new touch, and
:meth:`taker_orders` draws the Poisson taker flow for the tick.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from bot.sim.book import Entry, OrderBook
from bot.sim.instruments import Instrument
from bot.sim.market_model import GarchJumps, MarketModel, taker_size_lots

GAP_PERCENT = 25  # share of levels beyond the first few left empty (deterministic per price)
DENSE_LEVELS = 8  # levels next to the touch that are always filled
PERTURB_PER_STEP = 3  # near-touch levels whose synthetic size is re-drawn each step
NEAR_LEVELS = 30  # levels re-checked every step; the whole band only every FULL_EVERY steps
FULL_EVERY = 10


@dataclass(slots=True)
class SymbolMarket:
    """Price process and synthetic liquidity of one instrument."""

    inst: Instrument
    rng: random.Random
    book_levels: int
    book: OrderBook = field(default_factory=OrderBook)
    mid_ticks: float = 0.0
    last_trade_ticks: int = 0
    seq: int = 0  # cross sequence: increments on every matching event
    cts_ms: int = 0  # time of the last matching event
    trade_count: int = 0
    volume_lots: int = 0
    turnover: Decimal = Decimal(0)
    high_ticks: int = 0
    low_ticks: int = 0
    open_ticks: int = 0
    model: MarketModel = field(default_factory=MarketModel)
    _last_bid: int = 0
    _refreshes: int = 0
    _process: GarchJumps | None = None

    def __post_init__(self) -> None:
        start = self.inst.to_ticks(self.inst.start_price)
        assert start is not None
        daily_ticks = (
            float(self.inst.start_price) * self.inst.daily_vol / float(self.inst.tick_size)
        )
        self._process = GarchJumps(self.model, self.rng, daily_ticks)
        self.mid_ticks = start + 0.5
        self.last_trade_ticks = self.high_ticks = self.low_ticks = self.open_ticks = start
        self.refresh_liquidity()

    @property
    def mean_level_lots(self) -> float:
        return float(self.inst.level_size_mean / self.inst.qty_step)

    def touch(self) -> tuple[int, int]:
        """Target best bid and best ask of the synthetic market: one tick wide around the mid."""
        bid = math.floor(self.mid_ticks)
        return bid, bid + 1

    def step_mid(self, dt_s: float) -> None:
        assert self._process is not None
        self.mid_ticks = self._process.step(self.mid_ticks, dt_s)

    def _price(self, is_bid: bool, index: int) -> int:
        """Ticks of synthetic level ``index`` (0 = the touch); deeper levels on a fixed grid of
        ``level_spacing_ticks`` so a small move of the mid does not re-lay the whole band."""
        bid_top, ask_top = self.touch()
        if index == 0:
            return bid_top if is_bid else ask_top
        step = self.inst.level_spacing_ticks
        if is_bid:
            return (bid_top - 1) // step * step - (index - 1) * step
        return -(-(ask_top + 1) // step) * step + (index - 1) * step

    def _size(self, depth_index: int) -> int:
        mean = self.mean_level_lots * (self.model.touch_depth_levels if depth_index == 0 else 1)
        scale = mean * (0.3 + 1.4 * self.rng.random()) * (1 + depth_index / 40)
        return max(1, round(scale))

    def _wanted(self, ticks: int, depth_index: int) -> bool:
        return depth_index < DENSE_LEVELS or (ticks * 2654435761) % 100 >= GAP_PERCENT

    def refresh_liquidity(self) -> None:
        """Withdraw synthetic size outside the band around the touch, fill holes inside it."""
        bid_top, ask_top = self.touch()
        levels = self.book_levels
        self._trim(is_bid=True, keep_low=self._price(True, levels - 1), keep_high=bid_top)
        self._trim(is_bid=False, keep_low=ask_top, keep_high=self._price(False, levels - 1))
        # Holes appear near the touch (takers) and where the mid moved; the deep band is
        # re-checked a rotating slice per step, so every step costs about the same (no
        # periodic full pass stalling the event loop).
        step = self.inst.level_spacing_ticks
        moved = abs(bid_top - self._last_bid) // step + 1
        near = min(levels, NEAR_LEVELS + moved)
        chunk = -(-levels // FULL_EVERY)
        if self._refreshes == 0:
            indices: Iterable[int] = range(levels)
        else:
            deep = (self._refreshes % FULL_EVERY) * chunk
            far = max(near, levels - moved)  # the edge the band just extended to
            indices = sorted(
                {
                    *range(near),
                    *range(max(near, deep), min(levels, deep + chunk)),
                    *range(far, levels),
                }
            )
        self._refreshes += 1
        self._last_bid = bid_top
        for is_bid in (True, False):
            side = self.book.side(is_bid=is_bid)
            first = self._price(is_bid, 1)
            direction = -step if is_bid else step
            for index in indices:
                ticks = (
                    (bid_top if is_bid else ask_top)
                    if index == 0
                    else (first + (index - 1) * direction)
                )
                if ticks <= 0:
                    break
                level = side.levels.get(ticks)
                if level is not None and _has_synthetic(level.entries):
                    continue
                if self._wanted(ticks, index):
                    self.book.set_synthetic(ticks, self._size(index), is_bid=is_bid)
            for _ in range(PERTURB_PER_STEP):
                index = self.rng.randrange(DENSE_LEVELS)
                ticks = self._price(is_bid, index)
                if ticks > 0:
                    self.book.set_synthetic(ticks, self._size(index), is_bid=is_bid)

    def withdraw_crossed(self, bid_top: int, ask_top: int) -> None:
        """Cancel synthetic size the new touch crosses (asks at or below the new best bid,
        bids at or above the new best ask), except what is queued ahead of a user order: that
        trades before it when the engine sweeps the crossed levels (queue priority)."""
        self._trim(is_bid=False, keep_low=bid_top + 1, keep_high=1 << 62, keep_ahead=True)
        self._trim(is_bid=True, keep_low=0, keep_high=ask_top - 1, keep_ahead=True)

    def _trim(
        self, *, is_bid: bool, keep_low: int, keep_high: int, keep_ahead: bool = False
    ) -> None:
        side = self.book.side(is_bid=is_bid)
        prices = side.prices
        outside = prices[: bisect.bisect_left(prices, keep_low)]
        outside += prices[bisect.bisect_right(prices, keep_high) :]
        for ticks in outside:
            level = side.levels[ticks]
            if keep_ahead and any(e.order is not None for e in level.entries):
                self.book.drop_synthetic_behind(ticks, is_bid=is_bid)
            elif side.synthetic_lots(ticks):
                self.book.set_synthetic(ticks, 0, is_bid=is_bid)

    def taker_orders(
        self, rate_per_s: float, dt_s: float, size_levels: float
    ) -> list[tuple[bool, int]]:
        """Poisson taker market orders for this step: ``(is_buy, lots)``."""
        expected = rate_per_s * dt_s
        if expected <= 0:
            return []
        count, threshold, product = 0, math.exp(-expected), self.rng.random()
        while product > threshold and count < 1000:
            count += 1
            product *= self.rng.random()
        mean = self.mean_level_lots * size_levels
        sigma = self.model.taker_size_sigma
        return [
            (self.rng.random() < 0.5, taker_size_lots(self.rng, mean, sigma)) for _ in range(count)
        ]

    def record_trade(self, ticks: int, lots: int, now_ms: int) -> str:
        """Update last price and 24h-style stats; returns Bybit's tick direction ``L``."""
        previous = self.last_trade_ticks
        direction = (
            "PlusTick" if ticks > previous else "MinusTick" if ticks < previous else "ZeroPlusTick"
        )
        self.last_trade_ticks = ticks
        self.high_ticks = max(self.high_ticks, ticks)
        self.low_ticks = min(self.low_ticks, ticks)
        self.trade_count += 1
        self.volume_lots += lots
        self.turnover += self.inst.price_dec(ticks) * self.inst.qty_dec(lots)
        self.cts_ms = now_ms
        return direction

    def mark(self) -> Decimal:
        return self.inst.price_dec(round(self.mid_ticks))


def _has_synthetic(entries: deque[Entry]) -> bool:
    if entries and entries[0].order is None:  # the common case: one synthetic entry
        return True
    return any(entry.order is None for entry in entries)
