"""Request validation for the order endpoints: wire params → typed requests, or a Bybit retCode.

Checks and codes follow docs/bybit-v5.md §4, §5 and §9.5–6: category and symbol, side, type, time in
force, tick size, qty step, min/max qty, min notional (110094 linear, 170140 spot), duplicate
``orderLinkId`` (110072 / 170141), the 500-open-orders cap (110020), balance (110007 / 170131)
and reduce-only (110017). Mistyped values are a 10001 naming the parameter, never a crash.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from bot.sim import wire
from bot.sim.engine import Exchange, OrderRequest
from bot.sim.instruments import Category, Instrument, parse_decimal
from bot.sim.orders import Order
from bot.sim.wire import ApiError, params_error

LINK_ID = re.compile(r"[A-Za-z0-9_\-.:]{1,36}")
MAX_OPEN_PER_SYMBOL = 500
MARKET_SLIPPAGE = Decimal("0.03")  # a market order's protection price: best ± 3 %


def market_price(ref_ticks: int, *, is_buy: bool) -> int:
    """The price Bybit shows on a market order: the worst it may fill at (never "0")."""
    factor = 1 + MARKET_SLIPPAGE if is_buy else 1 - MARKET_SLIPPAGE
    return max(1, int(ref_ticks * factor))


def text(params: dict[str, Any], name: str, *, required: bool = False) -> str:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise params_error(f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise params_error(f"{name} must be a string")
    return value


def int_param(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    """An optional integer query parameter (``limit``, ``startTime``...) in ``[low, high]``."""
    raw = params.get(name)
    if raw in (None, ""):
        return default
    value = wire.ascii_int(raw, 15)
    if value is None:
        raise params_error(f"{name} invalid")
    if not low <= value <= high:
        raise params_error(f"{name} must be in [{low}, {high}]")
    return value


def page(items: list[Any], params: dict[str, Any], default: int, high: int
         ) -> tuple[list[Any], str]:
    """One page of a list endpoint: ``limit`` (default, at most ``high``) items from the opaque
    ``cursor`` the previous page returned; the next cursor, or "" on the last page."""
    limit = int_param(params, "limit", default, 1, high)
    start = wire.ascii_int(params.get("cursor") or "0", 9)
    if start is None:
        raise params_error("cursor invalid")
    chunk = items[start : start + limit]
    return chunk, str(start + limit) if start + limit < len(items) else ""


def instrument(
    exchange: Exchange, params: dict[str, Any], *, symbol_required: bool = True
) -> tuple[Category, Instrument | None]:
    raw = text(params, "category", required=True)
    try:
        category = Category(raw)
    except ValueError:
        raise ApiError(wire.PARAMS_ERROR, "Illegal category") from None
    symbol = text(params, "symbol", required=symbol_required)
    if not symbol:
        return category, None
    inst = exchange.instruments.get((category, symbol))
    if inst is None:
        raise params_error("symbol invalid")
    return category, inst


def _ticks(inst: Instrument, raw: object) -> int:
    price = parse_decimal(raw)
    if price is None or price <= 0:
        raise params_error("price invalid")
    ticks = inst.to_ticks(price)
    if ticks is None:
        if inst.category is Category.SPOT:
            raise ApiError(wire.SPOT_PRICE_DECIMALS)
        raise params_error(f"price {raw} is not a multiple of tickSize {inst.tick_size}")
    if ticks > 19_999_998:
        raise ApiError(110003, "price out of allowed range")
    return ticks


def _lots(inst: Instrument, raw: object) -> int:
    qty = parse_decimal(raw)
    if qty is None or qty <= 0:
        raise params_error("qty invalid")
    lots = inst.to_lots(qty)
    if lots is None:
        if inst.category is Category.SPOT:
            raise ApiError(wire.SPOT_QTY_DECIMALS)
        raise params_error(f"qty {raw} is not a multiple of qtyStep {inst.qty_step}")
    if qty < inst.min_qty:
        if inst.category is Category.SPOT:
            raise ApiError(wire.SPOT_QTY_TOO_LOW)
        raise params_error(f"qty below minOrderQty {inst.min_qty}")
    if qty > inst.max_qty:
        raise params_error(f"qty above maxOrderQty {inst.max_qty}")
    return lots


def _flag(params: dict[str, Any], name: str) -> bool:
    value = params.get(name, False)
    if value in (None, ""):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise params_error(f"{name} must be a boolean")


def parse_create(exchange: Exchange, params: dict[str, Any]) -> OrderRequest:
    _, inst = instrument(exchange, params)
    assert inst is not None
    side = text(params, "side", required=True)
    if side not in ("Buy", "Sell"):
        raise params_error("side invalid")
    order_type = text(params, "orderType", required=True)
    if order_type not in ("Limit", "Market"):
        raise params_error("orderType invalid")
    tif = text(params, "timeInForce") or "GTC"
    if tif not in ("GTC", "IOC", "FOK", "PostOnly"):
        raise params_error("timeInForce invalid")
    if order_type == "Market":
        if tif == "PostOnly":
            raise params_error("Market order cannot be PostOnly")
        tif = "IOC"
    if "qty" not in params or params["qty"] in (None, ""):
        raise params_error("qty is required")
    lots = _lots(inst, params["qty"])
    book = exchange.markets[inst.key].book
    if order_type == "Limit":
        if params.get("price") in (None, ""):
            raise params_error("price is required for Limit orders")
        ticks = _ticks(inst, params["price"])
        ref_ticks = ticks
    else:
        best = book.asks.best() if side == "Buy" else book.bids.best()
        ref_ticks = best or exchange.markets[inst.key].last_trade_ticks
        ticks = market_price(ref_ticks, is_buy=side == "Buy")
    link_id = text(params, "orderLinkId")
    if link_id and not LINK_ID.fullmatch(link_id):
        raise params_error("orderLinkId invalid")
    if link_id and link_id in exchange.by_link:
        raise ApiError(
            wire.SPOT_DUPLICATE_LINK_ID
            if inst.category is Category.SPOT
            else wire.DUPLICATE_LINK_ID
        )
    position_idx = params.get("positionIdx", 0)
    if position_idx in (None, ""):
        position_idx = 0
    if isinstance(position_idx, str):
        position_idx = wire.ascii_int(position_idx, 3)
    if not isinstance(position_idx, int) or isinstance(position_idx, bool) or position_idx != 0:
        raise params_error("position idx not match position mode")
    reduce_only = _flag(params, "reduceOnly")
    qty, price = inst.qty_dec(lots), inst.price_dec(ref_ticks)
    _check_value(
        exchange, inst, is_buy=side == "Buy", qty=qty, price=price, reduce_only=reduce_only
    )
    if len(exchange.open_orders[inst.key]) >= MAX_OPEN_PER_SYMBOL:
        raise ApiError(wire.TOO_MANY_ORDERS)
    return OrderRequest(
        inst=inst,
        is_buy=side == "Buy",
        order_type=order_type,
        time_in_force=tif,
        price_ticks=ticks,
        lots=lots,
        order_link_id=link_id,
        reduce_only=reduce_only,
        position_idx=position_idx,
    )


def _check_value(
    exchange: Exchange,
    inst: Instrument,
    *,
    is_buy: bool,
    qty: Decimal,
    price: Decimal,
    reduce_only: bool,
) -> None:
    value = qty * price
    balances = exchange.account.balances
    if inst.category is Category.SPOT:
        if reduce_only:
            raise params_error("reduceOnly is not supported for spot")
        if value < inst.min_notional:
            raise ApiError(wire.SPOT_VALUE_TOO_LOW)
        if (is_buy and value > balances.get(inst.quote_coin, Decimal(0))) or (
            not is_buy and qty > balances.get(inst.base_coin, Decimal(0))
        ):
            raise ApiError(wire.SPOT_BALANCE)
        return
    if value < inst.min_notional:
        raise ApiError(wire.NOTIONAL_TOO_LOW)
    if reduce_only:
        size = exchange.account.position(inst).size
        if size == 0 or (size > 0) == is_buy:
            raise ApiError(
                wire.REDUCE_ONLY_ZERO, "current position is zero, cannot fix reduce-only order qty"
            )
        return
    if value / exchange.account.leverage_of(inst) > balances.get(inst.quote_coin, Decimal(0)):
        raise ApiError(wire.BALANCE_LINEAR)


def target(exchange: Exchange, params: dict[str, Any]) -> tuple[Instrument, str, str]:
    """Instrument and ``(orderId, orderLinkId)`` of a cancel or amend; one id is required."""
    _, inst = instrument(exchange, params)
    assert inst is not None
    order_id = text(params, "orderId")
    link_id = text(params, "orderLinkId")
    if not order_id and not link_id:
        raise params_error("OrderId or orderLinkId is required")
    return inst, order_id, link_id


def parse_amend(exchange: Exchange, params: dict[str, Any]) -> tuple[Order, int | None, int | None]:
    inst, order_id, link_id = target(exchange, params)
    order = exchange.find(inst, order_id, link_id)
    if order is None or not order.is_open:
        if inst.category is Category.SPOT:
            raise ApiError(wire.SPOT_ORDER_NOT_EXISTS)
        raise ApiError(wire.ORDER_NOT_EXISTS, "order not exists or too late to replace")
    lots = None if params.get("qty") in (None, "") else _lots(inst, params["qty"])
    ticks = None if params.get("price") in (None, "") else _ticks(inst, params["price"])
    if lots is not None and lots <= order.cum_lots:
        raise ApiError(
            wire.AMEND_QTY_BELOW_FILLED,
            "the qty to be amended is less than or equal to the filled qty",
        )
    return order, lots, ticks
