"""The bot's own vocabulary for what any venue tells it and what it asks of any venue.

Strategy, order manager, ledger and runner speak only these types; a venue package
(``bot/venues/<name>/``) converts its wire messages to and from them. Prices are integer ticks
of the traded :class:`~bot.instrument.Instrument`, quantities and money are ``Decimal``: nothing
here is a float, so nothing is ever compared as one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from bot.instrument import Instrument

__all__ = [
    "Balance",
    "BookUpdate",
    "Fill",
    "Instrument",
    "LimitOrder",
    "OrderStatus",
    "OrderUpdate",
    "Position",
    "Side",
]


class Side(StrEnum):
    BUY = "Buy"
    SELL = "Sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderStatus(StrEnum):
    NEW = "new"  # resting (or waiting for its trigger)
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


@dataclass(frozen=True, slots=True)
class LimitOrder:
    """A post-only limit order the bot asks a venue to place."""

    client_id: str
    side: Side
    price_ticks: int
    qty: Decimal


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A venue's view of one order (pushed or fetched). ``price_ticks`` is None when the venue
    did not say; ``post_only_rejected``: it would have crossed, so it was not placed."""

    symbol: str
    client_id: str
    order_id: str
    status: OrderStatus
    side: Side | None = None
    price_ticks: int | None = None
    qty: Decimal | None = None
    filled_qty: Decimal = Decimal(0)  # cumulative, as far as the venue has reported
    post_only_rejected: bool = False


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade of ours. ``fee`` is negative for a rebate."""

    exec_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    maker: bool
    time_ms: int = 0
    client_id: str = ""  # our order's client id, when the venue says


@dataclass(frozen=True, slots=True)
class Position:
    """Our position on a symbol: ``size`` signed (negative = short), base coin."""

    symbol: str
    size: Decimal
    avg_price: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Balance:
    coin: str
    total: Decimal
    available: Decimal


class BookUpdate(NamedTuple):
    """A book snapshot or delta for one symbol (a tuple: built for every push, so cheap).

    ``bids`` / ``asks`` are ``(price, size)`` decimal strings as the venue sent them (the book
    turns prices into ticks with the instrument's parser); a size of zero deletes the level.
    ``update_id`` increases by one per delta on an intact stream.
    """

    symbol: str
    snapshot: bool
    update_id: int
    bids: Sequence[Sequence[str]]
    asks: Sequence[Sequence[str]]
    seq: int = 0
    ts_ms: int = 0
    cts_ms: int = 0
