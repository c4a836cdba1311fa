"""Bybit v5 messages to domain types (the ``to_domain`` step of the Bybit venue).

Wire shapes are defined once in :mod:`bot.bybit_v5.schemas` (samples in their docstrings);
this module is the only place that reads their fields for the bot. Statuses follow
docs/bybit-v5.md §6 (open: ``New``, ``PartiallyFilled``, ``Untriggered``), fee signs
docs/bybit-v5.md §8, the book rules docs/bybit-v5.md §7 (``u == 1`` is a snapshot after a
venue restart).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.bybit_v5.schemas import (
    ExecutionItem,
    InstrumentItem,
    OrderbookMessage,
    OrderItem,
    PositionItem,
)
from bot.domain import BookUpdate, Fill, Instrument, OrderStatus, OrderUpdate, Position, Side

POST_ONLY_REJECT = "EC_PostOnlyWillTakeLiquidity"

OPEN_STATUSES = frozenset({"New", "PartiallyFilled", "Untriggered"})
STATUSES: dict[str, OrderStatus] = {
    "New": OrderStatus.NEW,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Untriggered": OrderStatus.NEW,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELLED,
    "PartiallyFilledCanceled": OrderStatus.CANCELLED,
    "Deactivated": OrderStatus.CANCELLED,
    "Rejected": OrderStatus.REJECTED,
}


def instrument(item: InstrumentItem) -> Instrument:
    """From one ``/v5/market/instruments-info`` item (linear: ``qtyStep``, spot:
    ``basePrecision``)."""
    lot = item["lotSizeFilter"]
    return Instrument(
        symbol=str(item["symbol"]),
        tick_size=Decimal(item["priceFilter"]["tickSize"]),
        qty_step=Decimal(lot.get("qtyStep") or lot["basePrecision"]),
        min_qty=Decimal(lot["minOrderQty"]),
        max_qty=Decimal(lot["maxOrderQty"]),
        min_notional=Decimal(lot.get("minNotionalValue") or lot.get("minOrderAmt") or "0"),
    )


def order(item: OrderItem, inst: Instrument) -> OrderUpdate:
    price = item.get("price")
    qty = item.get("qty")
    side = item.get("side")
    return OrderUpdate(
        symbol=str(item.get("symbol", "")),
        client_id=str(item.get("orderLinkId", "")),
        order_id=str(item.get("orderId", "")),
        status=STATUSES.get(str(item.get("orderStatus", "")), OrderStatus.CANCELLED),
        side=Side(side) if side in ("Buy", "Sell") else None,
        price_ticks=inst.price_to_ticks(str(price)) if price else None,
        qty=Decimal(str(qty)) if qty else None,
        filled_qty=Decimal(str(item.get("cumExecQty") or "0")),
        post_only_rejected=item.get("rejectReason") == POST_ONLY_REJECT,
    )


def execution(item: ExecutionItem) -> Fill | None:
    """A trade fill; None for other executions (funding, settlement, ...)."""
    if item.get("execType", "Trade") != "Trade":
        return None
    return Fill(
        exec_id=str(item.get("execId", "")),
        symbol=str(item.get("symbol", "")),
        side=Side(str(item.get("side"))),
        qty=Decimal(str(item["execQty"])),
        price=Decimal(str(item["execPrice"])),
        fee=Decimal(str(item.get("execFee") or "0")),
        maker=bool(item.get("isMaker")),
        time_ms=int(item.get("execTime") or 0),
        client_id=str(item.get("orderLinkId", "")),
    )


def position(item: PositionItem) -> Position:
    """``size`` is unsigned on the wire, with ``side``; REST says ``avgPrice``, the stream
    ``entryPrice``."""
    size = Decimal(str(item.get("size") or "0"))
    avg = Decimal(str(item.get("avgPrice") or item.get("entryPrice") or "0"))
    return Position(
        symbol=str(item.get("symbol", "")),
        size=-size if item.get("side") == "Sell" else size,
        avg_price=avg,
    )


_new_tuple = tuple.__new__


def book_update(message: OrderbookMessage | Mapping[str, Any]) -> BookUpdate:
    """An ``orderbook.{depth}.{symbol}`` push (:class:`~bot.bybit_v5.schemas.OrderbookMessage`).

    On every book frame, so built with ``tuple.__new__`` in :class:`BookUpdate`'s field order
    (a third cheaper than calling the class).
    """
    data = message["data"]
    u = data["u"]
    return _new_tuple(
        BookUpdate,
        (
            data.get("s", ""),
            message.get("type") == "snapshot" or u == 1,
            u,
            data["b"],
            data["a"],
            data.get("seq", 0),
            message.get("ts", 0),
            message.get("cts", 0),
        ),
    )
