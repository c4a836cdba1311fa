"""A simulated order's state and its Bybit wire rendering (``/v5/order/realtime`` and ``order``).

Quantities are integer lots and prices integer ticks of the order's instrument; cumulative
value and fees are Decimal. ``to_wire`` produces the fields of docs/bybit-v5.md §4 / §7 in one
dict used by both REST lists and the private ``order`` push (which adds ``category``).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.sim.account import dec_str
from bot.sim.instruments import Category, Instrument

OPEN_STATUSES = frozenset({"New", "PartiallyFilled"})


class Status(StrEnum):
    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    REJECTED = "Rejected"
    PARTIALLY_FILLED_CANCELED = "PartiallyFilledCanceled"
    # Conditional orders (bot.sim.conditional): waiting, fired, cancelled before firing.
    UNTRIGGERED = "Untriggered"
    TRIGGERED = "Triggered"
    DEACTIVATED = "Deactivated"


class Order:
    """One user order; mutable, owned by the engine."""

    __slots__ = (
        "cancel_type",
        "created_ms",
        "cum_fee",
        "cum_lots",
        "cum_value",
        "instrument",
        "is_buy",
        "lots",
        "order_id",
        "order_link_id",
        "order_type",
        "position_idx",
        "price_ticks",
        "reduce_only",
        "reject_reason",
        "status",
        "time_in_force",
        "trigger_direction",
        "trigger_ticks",
        "updated_ms",
    )

    def __init__(
        self,
        *,
        instrument: Instrument,
        order_id: str,
        order_link_id: str,
        is_buy: bool,
        order_type: str,
        time_in_force: str,
        price_ticks: int,
        lots: int,
        reduce_only: bool,
        position_idx: int,
        now_ms: int,
    ) -> None:
        self.instrument = instrument
        self.order_id = order_id
        self.order_link_id = order_link_id
        self.is_buy = is_buy
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.price_ticks = price_ticks
        self.lots = lots
        self.reduce_only = reduce_only
        self.position_idx = position_idx
        self.cum_lots = 0
        self.cum_value = Decimal(0)
        self.cum_fee = Decimal(0)
        self.status = Status.NEW
        self.cancel_type = "UNKNOWN"
        self.reject_reason = "EC_NoError"
        self.created_ms = now_ms
        self.updated_ms = now_ms
        self.trigger_ticks = 0  # > 0: a conditional order (bot.sim.conditional)
        self.trigger_direction = 0  # 1: fires when the price rises to it, 2: when it falls

    @property
    def side(self) -> str:
        return "Buy" if self.is_buy else "Sell"

    @property
    def leaves_lots(self) -> int:
        return self.lots - self.cum_lots if self.status in OPEN_STATUSES else 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def to_wire(self) -> dict[str, Any]:
        inst = self.instrument
        leaves = self.leaves_lots
        if self.status is Status.UNTRIGGERED:
            leaves = self.lots
        # Market orders show their protection price (validate.market_price), as Bybit does.
        price = inst.price_str(self.price_ticks) if self.price_ticks else "0"
        conditional = self.trigger_ticks > 0
        avg = (
            str((self.cum_value / inst.qty_dec(self.cum_lots)).quantize(inst.tick_size / 100))
            if self.cum_lots
            else ("0" if inst.category is Category.LINEAR else "")
        )
        leaves_value = inst.price_dec(self.price_ticks) * inst.qty_dec(leaves)
        wire = {
            "category": inst.category.value,
            "symbol": inst.symbol,
            "orderId": self.order_id,
            "orderLinkId": self.order_link_id,
            "blockTradeId": "",
            "side": self.side,
            "orderType": self.order_type,
            "timeInForce": self.time_in_force,
            "price": price,
            "qty": inst.qty_str(self.lots),
            "isLeverage": "" if inst.category is Category.LINEAR else "0",
            "positionIdx": self.position_idx,
            "orderStatus": self.status.value,
            "cancelType": self.cancel_type,
            "rejectReason": self.reject_reason,
            "avgPrice": avg,
            "leavesQty": inst.qty_str(leaves),
            "leavesValue": f"{leaves_value.normalize():f}",
            "cumExecQty": inst.qty_str(self.cum_lots),
            "cumExecValue": f"{self.cum_value.normalize():f}",
            "cumExecFee": f"{self.cum_fee.normalize():f}",
            "cumFeeDetail": {inst.quote_coin: f"{self.cum_fee.normalize():f}"}
            if self.cum_lots
            else {},
            "feeCurrency": "",
            "stopOrderType": "Stop" if conditional else "",
            "orderIv": "",
            "triggerPrice": inst.price_str(self.trigger_ticks) if conditional else "",
            "takeProfit": "",
            "stopLoss": "",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": self.trigger_direction,
            "triggerBy": "LastPrice" if conditional else "",
            "lastPriceOnCreated": "",
            "reduceOnly": self.reduce_only,
            "closeOnTrigger": False,
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "tpslMode": "",
            "tpLimitPrice": "",
            "slLimitPrice": "",
            "placeType": "",
            "createType": "CreateByUser",
            "closedPnl": "0",
            "createdTime": str(self.created_ms),
            "updatedTime": str(self.updated_ms),
        }
        if inst.category is Category.SPOT:
            del wire["tpslMode"]  # Bybit's spot rows have none (clients tell spot by it)
        return wire


def execution_wire(
    order: Order,
    *,
    exec_id: str,
    ticks: int,
    lots: int,
    is_maker: bool,
    fee_rate: Decimal,
    fee: Decimal,
    fee_coin: str,
    pnl: Decimal,
    closed_qty: Decimal,
    mark: Decimal,
    now_ms: int,
    seq: int,
) -> dict[str, Any]:
    """One fill as an ``execution`` push / ``/v5/execution/list`` item (docs/bybit-v5.md §7)."""
    inst = order.instrument
    return {
        "category": inst.category.value,
        "symbol": inst.symbol,
        "closedSize": dec_str(closed_qty),
        "execFee": dec_str(fee),
        "execId": exec_id,
        "execPrice": inst.price_str(ticks),
        "execQty": inst.qty_str(lots),
        "execType": "Trade",
        "execValue": dec_str(inst.qty_dec(lots) * inst.price_dec(ticks)),
        "feeRate": dec_str(fee_rate),
        "markPrice": dec_str(mark),
        "indexPrice": dec_str(mark),
        "leavesQty": inst.qty_str(order.leaves_lots),
        "orderId": order.order_id,
        "orderLinkId": order.order_link_id,
        "orderPrice": inst.price_str(order.price_ticks),
        "orderQty": inst.qty_str(order.lots),
        "orderType": order.order_type,
        "stopOrderType": "UNKNOWN",
        "side": order.side,
        "execTime": str(now_ms),
        "isLeverage": "0",
        "isMaker": is_maker,
        "seq": seq,
        "marketUnit": "",
        "execPnl": dec_str(pnl),
        "createType": "CreateByUser",
        "extraFees": "",
        "feeCurrency": fee_coin,
        "blockTradeId": "",
        "underlyingPrice": "",
        "tradeIv": "",
        "markIv": "",
    }
