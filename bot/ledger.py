"""Our fills summed: signed position, cash, fees and rebates, and the PnL they imply.

Bybit's sign convention (bybit-v5.md §8): ``execFee`` is positive for a fee paid and negative
for a rebate, so cash moves by ``-(side * qty * price) - execFee`` per fill. Executions are
applied once each (``execId`` remembered in a bounded window), since the same fill can arrive
on the stream and again from a REST catch-up after a reconnect.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Fill:
    side: str
    qty: Decimal
    price: Decimal
    fee: Decimal  # negative: a rebate
    maker: bool


@dataclass(slots=True)
class Ledger:
    position: Decimal = Decimal(0)  # base coin, signed
    cash: Decimal = Decimal(0)  # quote coin, fees and rebates included
    rebates: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    fills: int = 0
    seen: deque[str] = field(default_factory=lambda: deque(maxlen=4096))

    def apply_execution(self, item: dict[str, Any]) -> Fill | None:
        """Book one ``execution`` item (stream or REST); None if not a new trade fill."""
        exec_id = str(item.get("execId", ""))
        if item.get("execType", "Trade") != "Trade" or exec_id in self.seen:
            return None
        self.seen.append(exec_id)
        fill = Fill(
            side=str(item.get("side")),
            qty=Decimal(str(item["execQty"])),
            price=Decimal(str(item["execPrice"])),
            fee=Decimal(str(item.get("execFee") or "0")),
            maker=bool(item.get("isMaker")),
        )
        sign = 1 if fill.side == "Buy" else -1
        self.position += sign * fill.qty
        self.cash -= sign * fill.qty * fill.price + fill.fee
        self.fills += 1
        if fill.fee < 0:
            self.rebates -= fill.fee
        else:
            self.fees += fill.fee
        return fill

    def set_position(self, item: dict[str, Any]) -> None:
        """The venue's position (``size`` unsigned plus ``side``) replaces ours."""
        size = Decimal(str(item.get("size") or "0"))
        self.position = -size if item.get("side") == "Sell" else size

    def pnl(self, mid: Decimal) -> Decimal:
        """Marked to ``mid``: cash plus the position's value."""
        return self.cash + self.position * mid
