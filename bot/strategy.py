"""Rebate market making: where the quotes should be, and what to change to get them there.

Pure functions of the book top, the position and the config, so they are unit-tested without
an exchange and benchmarked together with the book. Quotes are post-only at (or ``offset_ticks``
behind) the touch on ``levels`` levels per side, skewed against inventory (a long position
lowers both quotes by up to ``skew_ticks_at_limit``), never crossing the opposite touch, and no
quote is shown that could, if it and every other quote on its side filled, take the position
past ``max_position``. :func:`plan` diffs the
desired quotes against live orders and keeps any order within ``refresh_tolerance_ticks`` of
its target so quotes don't churn on every tick; :class:`QuoteDecider` also re-prices live
quotes at most every ``min_refresh_interval_s``, so the submit rate is paced by design, not by
the risk limit (missing quotes are still placed at once).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from bot.config import RiskConfig, StrategyConfig
from bot.domain import Instrument, Side

__all__ = ["Action", "Amend", "Cancel", "Create", "LiveQuote", "Quote", "QuoteDecider", "Side"]


@dataclass(frozen=True, slots=True)
class Quote:
    side: Side
    level: int
    price_ticks: int
    qty: Decimal


@dataclass(frozen=True, slots=True)
class LiveQuote:
    """What the planner needs to know about an order that is live (or in flight)."""

    link_id: str
    side: Side
    level: int
    price_ticks: int
    qty: Decimal
    busy: bool  # a request for it is in flight: leave it alone this round


@dataclass(frozen=True, slots=True)
class Create:
    quote: Quote


@dataclass(frozen=True, slots=True)
class Amend:
    link_id: str
    quote: Quote


@dataclass(frozen=True, slots=True)
class Cancel:
    link_id: str


Action = Create | Amend | Cancel


def desired_quotes(
    best_bid: int,
    best_ask: int,
    position: Decimal,
    strategy: StrategyConfig,
    risk: RiskConfig,
    instrument: Instrument,
) -> list[Quote]:
    """The quotes to show for this book top and position (see the module docstring)."""
    ratio = max(Decimal(-1), min(Decimal(1), position / risk.max_position))
    skew = int((ratio * strategy.skew_ticks_at_limit).to_integral_value())
    quotes: list[Quote] = []
    tick = instrument.tick_size
    # Room left on each side if every quote on it filled: the position limit holds even then.
    buy_room = risk.max_position - position
    sell_room = risk.max_position + position
    for level in range(strategy.levels):
        away = strategy.offset_ticks + level * strategy.level_spacing_ticks
        bid = min(best_bid - away - skew, best_ask - 1)
        ask = max(best_ask + away - skew, best_bid + 1)
        if bid > 0:
            qty = instrument.quote_qty(strategy.order_qty, bid * tick)
            if qty and qty <= buy_room:
                quotes.append(Quote(Side.BUY, level, bid, qty))
                buy_room -= qty
        qty = instrument.quote_qty(strategy.order_qty, ask * tick)
        if qty and qty <= sell_room:
            quotes.append(Quote(Side.SELL, level, ask, qty))
            sell_room -= qty
    return quotes


class QuoteDecider:
    """:func:`desired_quotes` memoised on its inputs: most deltas don't move the touch."""

    def __init__(
        self,
        strategy: StrategyConfig,
        risk: RiskConfig,
        instrument: Instrument,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.strategy, self.risk, self.instrument = strategy, risk, instrument
        self._key: tuple[int, int, Decimal] | None = None
        self._quotes: list[Quote] = []
        self._clock = clock
        self._last_reprice = -float("inf")

    def decide(
        self, best_bid: int, best_ask: int, position: Decimal, live: list[LiveQuote]
    ) -> list[Action]:
        key = (best_bid, best_ask, position)
        if key != self._key:
            self._quotes = desired_quotes(
                best_bid, best_ask, position, self.strategy, self.risk, self.instrument
            )
            self._key = key
        if not live:
            return [Create(q) for q in self._quotes]
        actions = plan(self._quotes, live, self.strategy.refresh_tolerance_ticks)
        if any(isinstance(a, Amend) for a in actions):
            now = self._clock()
            if now - self._last_reprice < self.strategy.min_refresh_interval_s:
                return [a for a in actions if not isinstance(a, Amend)]
            self._last_reprice = now
        return actions


def plan(desired: list[Quote], live: list[LiveQuote], tolerance_ticks: int) -> list[Action]:
    """Actions turning ``live`` into ``desired``: keep close ones, amend far ones, cancel extra."""
    wanted = {(q.side, q.level): q for q in desired}
    actions: list[Action] = []
    seen: set[tuple[Side, int]] = set()
    for order in live:
        key = (order.side, order.level)
        if key in seen:  # a duplicate for one slot: keep the first only
            if not order.busy:
                actions.append(Cancel(order.link_id))
            continue
        seen.add(key)
        if order.busy:
            continue
        target = wanted.get(key)
        if target is None:
            actions.append(Cancel(order.link_id))
        elif abs(target.price_ticks - order.price_ticks) > tolerance_ticks or (
            target.qty != order.qty
        ):
            actions.append(Amend(order.link_id, target))
    actions.extend(Create(q) for key, q in wanted.items() if key not in seen)
    return actions
