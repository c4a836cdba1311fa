"""Conditional (trigger) orders: ``triggerPrice`` + ``triggerDirection`` on ``order/create``.

Lifecycle as Bybit documents it (docs/bybit-v5.md §6): the order is accepted ``Untriggered``
(``stopOrderType: "Stop"``) and holds no margin; when the last traded price reaches the
trigger (direction 1: rises to it, 2: falls to it) it turns ``Triggered`` and then goes
through the book like a fresh order of its type (``New`` / ``Filled`` ...), keeping its
``orderId``. Cancelled before firing it ends ``Deactivated``. Every transition is pushed on the
private ``order`` stream. Checked after every trade (once the operation that traded is done),
so a print through the trigger fires it even if the price comes back before the next tick.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.sim import validate, wire
from bot.sim.engine import Exchange
from bot.sim.instruments import Category, Instrument, parse_decimal
from bot.sim.market import SymbolMarket
from bot.sim.orders import Order, Status
from bot.sim.wire import ApiError, params_error

RISING, FALLING = 1, 2


class ConditionalOrders:
    """Untriggered orders per instrument, and the check that fires them."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.waiting: dict[tuple[Category, str], dict[str, Order]] = {
            key: {} for key in exchange.instruments
        }
        exchange.on_trade.append(self.check)  # the last price moves only by trades

    def all_waiting(self, insts: list[Instrument]) -> list[Order]:
        return [o for i in insts for o in self.waiting[i.key].values()]

    def find(self, inst: Instrument, order_id: str, link_id: str) -> Order | None:
        order = self.exchange.find(inst, order_id, link_id)
        if order is not None and order.order_id in self.waiting[inst.key]:
            return order
        return None

    def create(self, params: dict[str, Any]) -> Order:
        plain = {k: v for k, v in params.items() if k not in _TRIGGER_KEYS}
        req = validate.parse_create(self.exchange, plain)
        inst = req.inst
        trigger = _trigger_ticks(inst, params.get("triggerPrice"))
        market = self.exchange.markets[inst.key]
        last = market.last_trade_ticks
        direction = _direction(params, inst, trigger, last)
        if direction == RISING and trigger <= last:
            raise ApiError(
                110092,
                f"expect Rising, but trigger_price[{inst.price_str(trigger)}] <= "
                f"current[{inst.price_str(last)}]",
            )
        if direction == FALLING and trigger >= last:
            raise ApiError(
                110093,
                f"expect Falling, but trigger_price[{inst.price_str(trigger)}] >= "
                f"current[{inst.price_str(last)}]",
            )
        order = self.exchange.new_order(req)
        order.trigger_ticks = trigger
        order.trigger_direction = direction
        order.status = Status.UNTRIGGERED
        self.waiting[inst.key][order.order_id] = order
        self._push(order)
        return order

    def cancel(self, order: Order) -> Order:
        del self.waiting[order.instrument.key][order.order_id]
        self.exchange.close_order(order, Status.DEACTIVATED, "CancelByUser")
        return order

    def amend(self, order: Order, params: dict[str, Any]) -> Order:
        inst = order.instrument
        if params.get("triggerPrice") not in (None, ""):
            order.trigger_ticks = _trigger_ticks(inst, params["triggerPrice"])
        if params.get("qty") not in (None, ""):
            lots = inst.to_lots(validate_decimal(params["qty"]))
            if not lots or lots <= 0:
                raise params_error("qty invalid")
            order.lots = lots
        if params.get("price") not in (None, "") and order.order_type == "Limit":
            ticks = inst.to_ticks(validate_decimal(params["price"]))
            if not ticks or ticks <= 0:
                raise params_error("price invalid")
            order.price_ticks = ticks
        order.updated_ms = self.exchange.clock.now_ms()
        self._push(order)
        return order

    def check(self, market: SymbolMarket) -> None:
        """Fire every waiting order of ``market`` whose trigger the last price reached."""
        waiting = self.waiting[market.inst.key]
        if not waiting:
            return
        last = market.last_trade_ticks
        fired = [
            o
            for o in waiting.values()
            if (o.trigger_direction == RISING and last >= o.trigger_ticks)
            or (o.trigger_direction == FALLING and last <= o.trigger_ticks)
        ]
        for order in fired:
            del waiting[order.order_id]
            order.status = Status.TRIGGERED
            order.updated_ms = self.exchange.clock.now_ms()
            self._push(order)
            order.status = Status.NEW
            self.exchange.stats["conditional_triggered"] += 1
            self.exchange.run_order(order)

    def _push(self, order: Order) -> None:
        exchange = self.exchange
        if exchange.private_listeners:
            exchange.on_private("order", [order.to_wire()])


_TRIGGER_KEYS = ("triggerPrice", "triggerDirection", "triggerBy", "orderFilter")


def validate_decimal(raw: object) -> Decimal:
    value = parse_decimal(raw)
    if value is None:
        raise params_error("number invalid")
    return value


def _trigger_ticks(inst: Instrument, raw: object) -> int:
    value = validate_decimal(raw)
    ticks = inst.to_ticks(value) if value > 0 else None
    if ticks is None or ticks <= 0:
        raise params_error("triggerPrice invalid")
    return ticks


def _direction(params: dict[str, Any], inst: Instrument, trigger: int, last: int) -> int:
    raw = params.get("triggerDirection")
    if raw in (None, "", 0, "0"):
        if inst.category is Category.LINEAR:
            raise params_error("triggerDirection is required for conditional orders")
        return RISING if trigger > last else FALLING  # spot infers it from the last price
    value = wire.ascii_int(raw, 1)
    if value not in (RISING, FALLING):
        raise params_error("triggerDirection invalid")
    return value
