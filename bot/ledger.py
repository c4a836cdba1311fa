"""Our fills summed: signed position, cash, fees and rebates, and the PnL they imply.

A fill's ``fee`` is positive for a fee paid and negative for a rebate (how Bybit reports it,
docs/bybit-v5.md §8), so cash moves by ``-(side * qty * price) - fee`` per fill. Fills are
applied once each (``exec_id`` remembered in a bounded window), since the same fill can arrive
on the stream and again from a REST catch-up after a reconnect.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from bot.domain import Fill, Position


@dataclass(slots=True)
class Ledger:
    position: Decimal = Decimal(0)  # base coin, signed
    cash: Decimal = Decimal(0)  # quote coin, fees and rebates included
    rebates: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    fills: int = 0
    seen: deque[str] = field(default_factory=lambda: deque(maxlen=4096))

    def apply_fill(self, fill: Fill) -> bool:
        """Book one fill; False if it was booked already."""
        if fill.exec_id in self.seen:
            return False
        self.seen.append(fill.exec_id)
        sign = fill.side.sign
        self.position += sign * fill.qty
        self.cash -= sign * fill.qty * fill.price + fill.fee
        self.fills += 1
        if fill.fee < 0:
            self.rebates -= fill.fee
        else:
            self.fees += fill.fee
        return True

    def set_position(self, position: Position) -> None:
        """The venue's position replaces ours."""
        self.position = position.size

    def pnl(self, mid: Decimal) -> Decimal:
        """Marked to ``mid``: cash plus the position's value."""
        return self.cash + self.position * mid
