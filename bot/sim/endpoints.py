"""The ``/v5`` endpoint functions: params dict in, ``result`` object out (or :class:`ApiError`).

Market: time, instruments-info, orderbook, tickers. Trade: order create / amend / cancel /
cancel-all and their batches. Position list, wallet balance, fee rate. Order and execution
queries (``order/realtime``, ``order/history``, ``execution/list``) live in
:mod:`bot.sim.endpoints_account`, with their filters and conditional orders.
Shapes per docs/bybit-v5.md §4; registration with :class:`~bot.sim.rest.RestApi` in
:func:`register`.
"""

from __future__ import annotations

from typing import Any

from bot.sim import validate, wire
from bot.sim.account import dec_str
from bot.sim.engine import Exchange
from bot.sim.instruments import Category, Instrument
from bot.sim.rest import Endpoint, RestApi
from bot.sim.tickers import ticker
from bot.sim.wire import ApiError, WithExtInfo, params_error


def filtered_instruments(
    exchange: Exchange, params: dict[str, Any]
) -> tuple[Category, list[Instrument]]:
    """The request's one ``symbol``, or every listed instrument of its ``category`` matching
    ``baseCoin`` / ``settleCoin`` (the filter of Bybit's list endpoints)."""
    category, inst = validate.instrument(exchange, params, symbol_required=False)
    if inst is not None:
        return category, [inst]
    base = validate.text(params, "baseCoin")
    settle = validate.text(params, "settleCoin")
    insts = [
        i
        for i in exchange.instruments.values()
        if i.category is category
        and (not base or i.base_coin == base)
        and (not settle or i.quote_coin == settle)
    ]
    return category, insts


def register(api: RestApi, exchange: Exchange, dcp_window_s: dict[Category, float]) -> None:  # noqa: C901 (a flat route table)
    clock = exchange.clock

    def market_time(params: dict[str, Any]) -> Any:
        now = clock.now_ms()
        return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}

    def instruments_info(params: dict[str, Any]) -> Any:
        category, insts = filtered_instruments(exchange, params)
        page, cursor = validate.page([i.info() for i in insts], params, 500, 1000)
        return {"category": category.value, "list": page, "nextPageCursor": cursor}

    def orderbook(params: dict[str, Any]) -> Any:
        category, inst = validate.instrument(exchange, params)
        assert inst is not None
        default = 1 if category is Category.SPOT else 25
        depth = validate.int_param(params, "limit", default, 1, 1000)
        market = exchange.markets[inst.key]
        now = clock.now_ms()
        return {
            "s": inst.symbol,
            "b": [[inst.price_str(p), inst.qty_str(q)] for p, q in market.book.bids.top(depth)],
            "a": [[inst.price_str(p), inst.qty_str(q)] for p, q in market.book.asks.top(depth)],
            "ts": now,
            "u": market.book.version,
            "seq": market.seq,
            "cts": market.cts_ms or now,
        }

    def tickers(params: dict[str, Any]) -> Any:
        category, insts = filtered_instruments(exchange, params)
        now = clock.now_ms()
        return {
            "category": category.value,
            "list": [ticker(exchange.markets[i.key], now) for i in insts],
        }

    def create(params: dict[str, Any]) -> Any:
        order = exchange.place(validate.parse_create(exchange, params))
        api.maybe_ghost()
        return {"orderId": order.order_id, "orderLinkId": order.order_link_id}

    def amend(params: dict[str, Any]) -> Any:
        order, lots, ticks = validate.parse_amend(exchange, params)
        exchange.amend(order, lots=lots, price_ticks=ticks)
        return {"orderId": order.order_id, "orderLinkId": order.order_link_id}

    def cancel(params: dict[str, Any]) -> Any:
        inst, order_id, link_id = validate.target(exchange, params)
        order = exchange.cancel(inst, order_id, link_id)
        return {"orderId": order.order_id, "orderLinkId": order.order_link_id}

    def cancel_all(params: dict[str, Any]) -> Any:
        category, insts = filtered_instruments(exchange, params)
        given = any(params.get(k) for k in ("symbol", "baseCoin", "settleCoin"))
        if category is Category.LINEAR and not given:
            raise params_error("symbol or baseCoin or settleCoin is required")
        cancelled = exchange.cancel_all(insts)
        return {
            "list": [{"orderId": o.order_id, "orderLinkId": o.order_link_id} for o in cancelled],
            "success": "1",
        }

    def positions(params: dict[str, Any]) -> Any:
        category, insts = filtered_instruments(exchange, params)
        if category is not Category.LINEAR:
            raise ApiError(wire.PARAMS_ERROR, "Illegal category")
        if not any(params.get(k) for k in ("symbol", "settleCoin", "baseCoin")):
            raise params_error("symbol or settleCoin is required")
        marks = exchange.marks()
        items = [exchange.account.position(i).to_wire(marks[i.symbol], ws=False) for i in insts]
        page, cursor = validate.page(items, params, 20, 200)
        return {"category": "linear", "list": page, "nextPageCursor": cursor}

    def wallet(params: dict[str, Any]) -> Any:
        account_type = validate.text(params, "accountType", required=True)
        if account_type != "UNIFIED":
            raise params_error("accountType only support UNIFIED")
        data = exchange.wallet()
        coins = {c for c in validate.text(params, "coin").split(",") if c}
        if coins:
            data["coin"] = [c for c in data["coin"] if c["coin"] in coins]
        return {"list": [data]}

    def fee_rate(params: dict[str, Any]) -> Any:
        _, insts = filtered_instruments(exchange, params)
        acct = exchange.account
        return {
            "list": [
                {
                    "symbol": i.symbol,
                    "baseCoin": "",
                    "takerFeeRate": dec_str(acct.taker_fee),
                    "makerFeeRate": dec_str(acct.maker_fee),
                }
                for i in insts
            ]
        }

    def batch(single: Any, params: dict[str, Any], *, create: bool) -> Any:
        """``*-batch``: 1..10 items, each run like the single endpoint; per-item codes in
        ``retExtInfo.list``, top-level retCode 0 even when items fail (docs/bybit-v5.md §4)."""
        category, _ = validate.instrument(exchange, params, symbol_required=False)
        items = params.get("request")
        if not isinstance(items, list) or not 1 <= len(items) <= 10:
            raise params_error("request must be a list of 1 to 10 orders")
        results, codes = [], []
        for item in items:
            if not isinstance(item, dict):
                item = {}
            item = {**item, "category": category.value}
            symbol = item.get("symbol") if isinstance(item.get("symbol"), str) else ""
            try:
                ids = single(item)
                codes.append({"code": 0, "msg": "OK"})
            except ApiError as err:
                link = item.get("orderLinkId")
                ids = {"orderId": "", "orderLinkId": link if isinstance(link, str) else ""}
                codes.append({"code": err.code, "msg": err.message})
            entry = {"category": category.value, "symbol": symbol, **ids}
            if create:
                entry["createAt"] = str(clock.now_ms()) if ids["orderId"] else ""
            results.append(entry)
        return WithExtInfo({"list": results}, {"list": codes})

    def create_one(params: dict[str, Any]) -> Any:
        order = exchange.place(validate.parse_create(exchange, params))
        return {"orderId": order.order_id, "orderLinkId": order.order_link_id}

    def dcp(params: dict[str, Any]) -> Any:
        product = validate.text(params, "product") or "OPTIONS"
        categories = {"DERIVATIVES": Category.LINEAR, "SPOT": Category.SPOT}
        if product not in (*categories, "OPTIONS"):
            raise params_error("product invalid")
        window = params.get("timeWindow")
        if isinstance(window, bool) or not isinstance(window, int) or not 3 <= window <= 300:
            raise params_error("timeWindow must be an integer in [3, 300]")
        if product in categories:
            dcp_window_s[categories[product]] = float(window)
        return {}

    public: list[tuple[str, Endpoint]] = [
        ("/v5/market/time", market_time),
        ("/v5/market/instruments-info", instruments_info),
        ("/v5/market/orderbook", orderbook),
        ("/v5/market/tickers", tickers),
    ]
    for path, fn in public:
        api.add("GET", path, fn, private=False)
    batches: list[tuple[str, Endpoint]] = [
        ("/v5/order/create-batch", lambda p: batch(create_one, p, create=True)),
        ("/v5/order/amend-batch", lambda p: batch(amend, p, create=False)),
        ("/v5/order/cancel-batch", lambda p: batch(cancel, p, create=False)),
    ]
    for path, fn in [*batches, ("/v5/order/disconnected-cancel-all", dcp)]:
        api.add("POST", path, fn, private=True)
    for path, fn in (
        ("/v5/order/create", create),
        ("/v5/order/amend", amend),
        ("/v5/order/cancel", cancel),
        ("/v5/order/cancel-all", cancel_all),
    ):
        api.add("POST", path, fn, private=True)
    private_get = [
        ("/v5/position/list", positions),
        ("/v5/account/wallet-balance", wallet),
        ("/v5/account/fee-rate", fee_rate),
    ]
    for path, fn in private_get:
        api.add("GET", path, fn, private=True)
