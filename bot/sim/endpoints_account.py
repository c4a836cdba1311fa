"""Account, position-setting and order-query endpoints a client library probes or a strategy
bot needs, beyond the trading basics of :mod:`bot.sim.endpoints`.

``asset/coin/query-info``, ``user/query-api``, ``account/info`` (what ccxt asks before its
first private call), ``position/set-leverage`` (margin follows), ``position/switch-mode``
(one-way only), ``account/set-margin-mode``; ``order/realtime`` and ``order/history`` with
``orderFilter`` / ``orderStatus`` / time filters and cursor pagination, ``execution/list`` with
its filters; conditional orders (:mod:`bot.sim.conditional`) through ``order/create``,
``amend``, ``cancel`` and ``cancel-all``. Shapes per Bybit's samples (docs/bybit-v5.md §4).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.sim import validate, wire
from bot.sim.conditional import ConditionalOrders
from bot.sim.endpoints import filtered_instruments
from bot.sim.endpoints_market import listed_or_empty
from bot.sim.engine import Exchange
from bot.sim.instruments import Category, Instrument, parse_decimal
from bot.sim.orders import Order
from bot.sim.rest import Endpoint, RestApi
from bot.sim.wire import ApiError, params_error

DAY_MS = 86_400_000
MAX_LEVERAGE = Decimal(100)
SET_LEVERAGE_UNCHANGED = 110043
SET_LEVERAGE_TOO_HIGH = 110044
MARGIN_MODES = ("ISOLATED_MARGIN", "REGULAR_MARGIN", "PORTFOLIO_MARGIN")


class AccountSettings:
    """What a user may switch: margin mode and when it changed."""

    def __init__(self, now_ms: int) -> None:
        self.margin_mode = "REGULAR_MARGIN"
        self.updated_ms = now_ms


def _time_window(params: dict[str, Any], now: int) -> tuple[int, int]:
    """``startTime`` / ``endTime``: Bybit's default is the last 7 days, at most 7 days wide."""
    start = validate.int_param(params, "startTime", 0, 0, 10**15)
    end = validate.int_param(params, "endTime", 0, 0, 10**15)
    if not start and not end:
        return now - 7 * DAY_MS, now
    if start and not end:
        end = start + 7 * DAY_MS
    elif end and not start:
        start = end - 7 * DAY_MS
    if end < start:
        raise params_error("endTime must be after startTime")
    if end - start > 7 * DAY_MS:
        raise params_error("The time range between startTime and endTime cannot exceed 7 days")
    return start, end


def _filter_kind(order: Order, order_filter: str) -> bool:
    if order_filter in ("", "all"):
        return True
    if order_filter == "StopOrder":
        return order.trigger_ticks > 0
    if order_filter == "Order":
        return order.trigger_ticks == 0
    return False  # tpslOrder, OcoOrder, BidirectionalTpslOrder: the simulator has none


def register(api: RestApi, exchange: Exchange) -> ConditionalOrders:  # noqa: C901 (route table)
    clock = exchange.clock
    settings = AccountSettings(clock.now_ms())
    conditional = ConditionalOrders(exchange)
    original = {key: fn for key, (fn, _) in api.routes.items()}

    def coin_info(params: dict[str, Any]) -> Any:
        wanted = validate.text(params, "coin")
        coins = sorted(
            {c for i in exchange.instruments.values() for c in (i.base_coin, i.quote_coin)}
        )
        rows = [
            {
                "name": coin,
                "coin": coin,
                "remainAmount": "1000000",
                "chains": [
                    {
                        "chainType": coin,
                        "confirmation": "1",
                        "withdrawFee": "0",
                        "depositMin": "0",
                        "withdrawMin": "0",
                        "chain": coin,
                        "chainDeposit": "1",
                        "chainWithdraw": "1",
                        "minAccuracy": "8",
                        "withdrawPercentageFee": "0",
                        "contractAddress": "",
                        "safeConfirmNumber": "1",
                    }
                ],
            }
            for coin in coins
            if not wanted or coin == wanted
        ]
        return {"rows": rows}

    def query_api(params: dict[str, Any]) -> Any:
        return {
            "id": "1",
            "note": "mmbot sim",
            "apiKey": "",  # never echo the key
            "readOnly": 0,
            "secret": "",
            "permissions": {
                "ContractTrade": ["Order", "Position"],
                "Spot": ["SpotTrade"],
                "Wallet": ["AccountTransfer"],
                "Options": [],
                "Derivatives": ["DerivativesTrade"],
                "CopyTrading": [],
                "BlockTrade": [],
                "Exchange": [],
                "NFT": [],
                "Affiliate": [],
                "Earn": [],
            },
            "ips": ["*"],
            "type": 1,
            "deadlineDay": -1,
            "expiredAt": "",
            "createdAt": "2026-01-01T00:00:00Z",
            "unified": 0,
            "uta": 1,
            "userID": 1,
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": "",
            "isMaster": True,
            "parentUid": "0",
            "kycLevel": "LEVEL_DEFAULT",
            "kycRegion": "",
        }

    def account_info(params: dict[str, Any]) -> Any:
        return {
            "marginMode": settings.margin_mode,
            "updatedTime": str(settings.updated_ms),
            "unifiedMarginStatus": 5,  # UTA 2.0
            "dcpStatus": "OFF",
            "timeWindow": 10,
            "smpGroup": 0,
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
        }

    def set_margin_mode(params: dict[str, Any]) -> Any:
        mode = validate.text(params, "setMarginMode", required=True)
        if mode not in MARGIN_MODES:
            raise params_error("setMarginMode invalid")
        settings.margin_mode = mode
        settings.updated_ms = clock.now_ms()
        return {"reasons": []}

    def linear_inst(params: dict[str, Any]) -> Instrument:
        category, inst = validate.instrument(exchange, params)
        if category is not Category.LINEAR or inst is None:
            raise ApiError(wire.PARAMS_ERROR, "Illegal category")
        return inst

    def set_leverage(params: dict[str, Any]) -> Any:
        inst = linear_inst(params)
        buy = parse_decimal(params.get("buyLeverage"))
        sell = parse_decimal(params.get("sellLeverage"))
        if buy is None or sell is None:
            raise params_error("buyLeverage and sellLeverage are required")
        if buy != sell:
            raise params_error("buyLeverage must equal sellLeverage in one-way mode")
        if not Decimal(1) <= buy <= MAX_LEVERAGE or buy != buy.quantize(Decimal("0.01")):
            raise ApiError(SET_LEVERAGE_TOO_HIGH, f"leverage must be in [1, {MAX_LEVERAGE}]")
        position = exchange.account.position(inst)
        if position.leverage == buy:
            raise ApiError(SET_LEVERAGE_UNCHANGED, "leverage not modified")
        position.leverage = buy
        position.updated_ms = clock.now_ms()
        exchange.mark_position(inst)
        return {}

    def switch_mode(params: dict[str, Any]) -> Any:
        validate.instrument(exchange, params, symbol_required=False)
        if not (params.get("symbol") or params.get("coin")):
            raise params_error("symbol or coin is required")
        mode = params.get("mode")
        if mode in (0, "0"):
            return {}
        if mode in (3, "3"):
            raise ApiError(wire.PARAMS_ERROR, "hedge mode is not supported by the simulator")
        raise params_error("mode invalid")

    def create(params: dict[str, Any]) -> Any:
        if params.get("triggerPrice") not in (None, ""):
            order = conditional.create(params)
            return {"orderId": order.order_id, "orderLinkId": order.order_link_id}
        return original[("POST", "/v5/order/create")](params)

    def amend(params: dict[str, Any]) -> Any:
        inst, order_id, link_id = validate.target(exchange, params)
        order = conditional.find(inst, order_id, link_id)
        if order is None:
            return original[("POST", "/v5/order/amend")](params)
        conditional.amend(order, params)
        return {"orderId": order.order_id, "orderLinkId": order.order_link_id}

    def cancel(params: dict[str, Any]) -> Any:
        inst, order_id, link_id = validate.target(exchange, params)
        order = conditional.find(inst, order_id, link_id)
        if order is None:
            return original[("POST", "/v5/order/cancel")](params)
        conditional.cancel(order)
        return {"orderId": order.order_id, "orderLinkId": order.order_link_id}

    def cancel_all(params: dict[str, Any]) -> Any:
        order_filter = validate.text(params, "orderFilter")
        result: dict[str, Any] = {"list": [], "success": "1"}
        if order_filter != "StopOrder":
            result = original[("POST", "/v5/order/cancel-all")](params)
        if order_filter in ("", "StopOrder"):
            _, insts = filtered_instruments(exchange, params)
            for order in conditional.all_waiting(insts):
                conditional.cancel(order)
                result["list"].append(
                    {"orderId": order.order_id, "orderLinkId": order.order_link_id}
                )
        return result

    def realtime(params: dict[str, Any]) -> Any:
        category, insts = filtered_instruments(exchange, params)
        order_id = validate.text(params, "orderId")
        link_id = validate.text(params, "orderLinkId")
        order_filter = validate.text(params, "orderFilter")
        if (
            category is Category.LINEAR
            and not (order_id or link_id)
            and not any(params.get(k) for k in ("symbol", "baseCoin", "settleCoin"))
        ):
            raise params_error("symbol or settleCoin or baseCoin is required")
        keys = {i.key for i in insts}
        if order_id or link_id:
            found = [o for i in insts if (o := exchange.find(i, order_id, link_id)) is not None]
        elif (validate.text(params, "openOnly") or "0") != "0":
            found = [o for o in reversed(exchange.closed) if o.instrument.key in keys][:500]
        else:
            found = [o for key in keys for o in exchange.open_orders[key].values()]
            found += conditional.all_waiting(insts)
        found = [o for o in found if _filter_kind(o, order_filter)]
        found.sort(key=lambda o: o.created_ms, reverse=True)
        page, cursor = validate.page([o.to_wire() for o in found], params, 20, 50)
        return {"category": category.value, "list": page, "nextPageCursor": cursor}

    def history(params: dict[str, Any]) -> Any:
        category, insts = filtered_instruments(exchange, params)
        keys = {i.key for i in insts}
        order_id = validate.text(params, "orderId")
        link_id = validate.text(params, "orderLinkId")
        order_filter = validate.text(params, "orderFilter")
        status = validate.text(params, "orderStatus")
        start, end = _time_window(params, clock.now_ms())
        candidates = [o for key in keys for o in exchange.open_orders[key].values()]
        candidates += conditional.all_waiting(insts)
        candidates += [o for o in exchange.closed if o.instrument.key in keys]
        found = [
            o
            for o in candidates
            if (not order_id or o.order_id == order_id)
            and (not link_id or o.order_link_id == link_id)
            and (not status or o.status.value == status)
            and _filter_kind(o, order_filter)
            and start <= o.created_ms <= end
        ]
        found.sort(key=lambda o: o.created_ms, reverse=True)
        page, cursor = validate.page([o.to_wire() for o in found], params, 20, 50)
        return {"category": category.value, "list": page, "nextPageCursor": cursor}

    def executions(params: dict[str, Any]) -> Any:
        category, insts = filtered_instruments(exchange, params)
        symbols = {i.symbol for i in insts}
        order_id = validate.text(params, "orderId")
        link_id = validate.text(params, "orderLinkId")
        exec_type = validate.text(params, "execType")
        start, end = _time_window(params, clock.now_ms())
        items = []
        for cat, symbol, oid, link, raw in reversed(exchange.account.executions):
            if (
                cat != category.value
                or symbol not in symbols
                or (order_id and oid != order_id)
                or (link_id and link != link_id)
            ):
                continue
            item = wire.loads(raw)
            if start <= int(item["execTime"]) <= end and (
                not exec_type or item["execType"] == exec_type
            ):
                items.append(item)
        page, cursor = validate.page(items, params, 50, 100)
        return {"category": category.value, "list": page, "nextPageCursor": cursor}

    def empty_orders(category: str) -> Any:
        return {"category": category, "list": [], "nextPageCursor": ""}

    private_get: list[tuple[str, Endpoint]] = [
        ("/v5/asset/coin/query-info", coin_info),
        ("/v5/user/query-api", query_api),
        ("/v5/account/info", account_info),
        ("/v5/order/realtime", listed_or_empty(realtime, empty_orders)),
        ("/v5/order/history", listed_or_empty(history, empty_orders)),
        ("/v5/execution/list", listed_or_empty(executions, empty_orders)),
        (
            "/v5/position/list",
            listed_or_empty(original[("GET", "/v5/position/list")], empty_orders),
        ),
    ]
    for path, fn in private_get:
        api.add("GET", path, fn, private=True)
    private_post: list[tuple[str, Endpoint]] = [
        ("/v5/account/set-margin-mode", set_margin_mode),
        ("/v5/position/set-leverage", set_leverage),
        ("/v5/position/switch-mode", switch_mode),
        ("/v5/order/create", create),
        ("/v5/order/amend", amend),
        ("/v5/order/cancel", cancel),
        ("/v5/order/cancel-all", cancel_all),
    ]
    for path, fn in private_post:
        api.add("POST", path, fn, private=True)
    return conditional
