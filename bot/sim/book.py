"""A price-time-priority order book in integer ticks and lots, mixing synthetic and user liquidity.

Each price level is a FIFO of entries; an entry is either synthetic liquidity (``order is
None``, the simulated rest of the market) or a resting user order. Takers consume a level
front to back, so a user order placed behind synthetic size waits for it to trade first, and
synthetic size added later queues behind the user: real queue position, not a shortcut.
``version`` increments on every change so publishers can skip unchanged books cheaply.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.sim.orders import Order


class Entry:
    """A slice of liquidity at one price: synthetic (``order is None``) or a user order."""

    __slots__ = ("lots", "order")

    def __init__(self, lots: int, order: Order | None = None) -> None:
        self.lots = lots
        self.order = order


class Level:
    __slots__ = ("entries", "ticks", "total")

    def __init__(self, ticks: int) -> None:
        self.ticks = ticks
        self.entries: deque[Entry] = deque()
        self.total = 0


@dataclass(frozen=True, slots=True)
class Fill:
    """``lots`` traded at ``ticks`` against ``maker`` (``None`` = synthetic liquidity)."""

    ticks: int
    lots: int
    maker: Order | None


class BookSide:
    """One side; ``prices`` ascending for both sides (best bid is the last, best ask the first)."""

    __slots__ = ("is_bid", "levels", "prices")

    def __init__(self, *, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.prices: list[int] = []
        self.levels: dict[int, Level] = {}

    def best(self) -> int | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.is_bid else self.prices[0]

    def ordered(self) -> list[int]:
        """Prices best first."""
        return self.prices[::-1] if self.is_bid else list(self.prices)

    def top(self, depth: int) -> list[tuple[int, int]]:
        """``(ticks, total_lots)`` for the best ``depth`` levels, best first."""
        levels = self.levels
        if self.is_bid:
            prices = (
                self.prices[: -depth - 1 : -1] if depth < len(self.prices) else self.prices[::-1]
            )
        else:
            prices = self.prices[:depth]
        return [(p, levels[p].total) for p in prices]

    def level(self, ticks: int) -> Level:
        level = self.levels.get(ticks)
        if level is None:
            level = self.levels[ticks] = Level(ticks)
            bisect.insort(self.prices, ticks)
        return level

    def drop_if_empty(self, level: Level) -> None:
        if level.total <= 0 and not level.entries:
            del self.levels[level.ticks]
            index = bisect.bisect_left(self.prices, level.ticks)
            del self.prices[index]

    def synthetic_lots(self, ticks: int) -> int:
        level = self.levels.get(ticks)
        if level is None:
            return 0
        return sum(e.lots for e in level.entries if e.order is None)

    def set_synthetic(self, ticks: int, lots: int) -> None:
        """Make the synthetic size at ``ticks`` equal ``lots``: grow at the tail, shrink from it."""
        current = self.synthetic_lots(ticks)
        if current == lots:
            return
        level = self.level(ticks)
        if lots > current:
            tail = level.entries[-1] if level.entries else None
            if tail is not None and tail.order is None:
                tail.lots += lots - current  # merge: entries per level stay bounded
            else:
                level.entries.append(Entry(lots - current))
            level.total += lots - current
        else:
            excess = current - lots
            for entry in reversed(level.entries):
                if excess == 0:
                    break
                if entry.order is None and entry.lots > 0:
                    cut = min(entry.lots, excess)
                    entry.lots -= cut
                    excess -= cut
                    level.total -= cut
            level.entries = deque(e for e in level.entries if e.lots > 0)
        self.drop_if_empty(level)

    def remove_order(self, ticks: int, order: Order) -> None:
        level = self.levels.get(ticks)
        if level is None:
            return
        for entry in level.entries:
            if entry.order is order:
                level.total -= entry.lots
                level.entries.remove(entry)
                break
        self.drop_if_empty(level)


class OrderBook:
    """Both sides of one symbol's book."""

    __slots__ = ("asks", "bids", "version")

    def __init__(self) -> None:
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)
        self.version = 0

    def side(self, *, is_bid: bool) -> BookSide:
        return self.bids if is_bid else self.asks

    def add_order(self, ticks: int, lots: int, order: Order, *, is_bid: bool) -> Entry:
        entry = Entry(lots, order)
        level = self.side(is_bid=is_bid).level(ticks)
        level.entries.append(entry)
        level.total += lots
        self.version += 1
        return entry

    def remove_order(self, ticks: int, order: Order, *, is_bid: bool) -> None:
        self.side(is_bid=is_bid).remove_order(ticks, order)
        self.version += 1

    def set_synthetic(self, ticks: int, lots: int, *, is_bid: bool) -> None:
        self.side(is_bid=is_bid).set_synthetic(ticks, lots)
        self.version += 1

    def drop_synthetic_behind(self, ticks: int, *, is_bid: bool) -> None:
        """Remove the synthetic entries queued after the last user order at ``ticks``."""
        level = self.side(is_bid=is_bid).levels.get(ticks)
        if level is None:
            return
        while level.entries and level.entries[-1].order is None:
            level.total -= level.entries.pop().lots
            self.version += 1

    def reduce_order(self, ticks: int, order: Order, lots: int, *, is_bid: bool) -> None:
        """Take ``lots`` off a resting order in place (it keeps its queue position)."""
        level = self.side(is_bid=is_bid).levels.get(ticks)
        if level is None:
            return
        for entry in level.entries:
            if entry.order is order:
                cut = min(lots, entry.lots - 1)
                entry.lots -= cut
                level.total -= cut
                self.version += 1
                return

    def available(self, *, taker_buy: bool, limit_ticks: int | None) -> int:
        """Lots a taker could fill up to ``limit_ticks`` (``None`` = whole side)."""
        side = self.asks if taker_buy else self.bids
        total = 0
        for ticks in side.ordered():
            if limit_ticks is not None and (
                ticks > limit_ticks if taker_buy else ticks < limit_ticks
            ):
                break
            total += side.levels[ticks].total
        return total

    def sweep(self, *, taker_buy: bool, limit_ticks: int | None, lots: int) -> list[Fill]:
        """Take up to ``lots`` from the opposite side, best price first, FIFO within a level."""
        side = self.asks if taker_buy else self.bids
        fills: list[Fill] = []
        remaining = lots
        while remaining > 0:
            best = side.best()
            if best is None:
                break
            if limit_ticks is not None and (
                best > limit_ticks if taker_buy else best < limit_ticks
            ):
                break
            level = side.levels[best]
            while remaining > 0 and level.entries:
                entry = level.entries[0]
                take = min(entry.lots, remaining)
                entry.lots -= take
                level.total -= take
                remaining -= take
                fills.append(Fill(best, take, entry.order))
                if entry.lots == 0:
                    level.entries.popleft()
            side.drop_if_empty(level)
        if fills:
            self.version += 1
        return fills
