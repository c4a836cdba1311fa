"""Endpoints a strategy bot needs beyond the basics, over real HTTP and WebSockets: order
history and executions with filters and cursor pages, other categories as empty lists, risk
limits, funding (history and its 8-hourly charge on positions), leverage moving margin, and
unknown routes / topics listed in ``/sim/stats``."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

from simtools import SimThread, signed, wait_for
from wsclient import RawWs, run

from bot.sim.funding import Funding


def ok(reply: Any) -> Any:
    body = reply.json()
    assert body["retCode"] == 0, body
    return body["result"]


def pages(sim: SimThread, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(50):
        result = ok(signed(sim, "GET", path, {**params, **({"cursor": cursor} if cursor else {})}))
        items += result["list"]
        cursor = result["nextPageCursor"]
        if not cursor:
            return items
    raise AssertionError("cursor never ended")


def place(sim: SimThread, **params: Any) -> str:
    base = {"category": "linear", "symbol": "BTCUSDT", "orderType": "Limit", "qty": "0.001"}
    return str(ok(signed(sim, "POST", "/v5/order/create", {**base, **params}))["orderId"])


def test_history_and_executions_filter_and_page(sim: SimThread) -> None:
    book = ok(
        signed(sim, "GET", "/v5/market/orderbook", {"category": "linear", "symbol": "BTCUSDT"})
    )
    bid = Decimal(book["b"][0][0])
    resting = [place(sim, side="Buy", price=str(bid - 200 - i)) for i in range(5)]
    for order_id in resting[:3]:
        ok(
            signed(
                sim,
                "POST",
                "/v5/order/cancel",
                {"category": "linear", "symbol": "BTCUSDT", "orderId": order_id},
            )
        )
    filled = [place(sim, side="Buy", orderType="Market") for _ in range(3)]
    query = {"category": "linear", "symbol": "BTCUSDT", "limit": "2"}
    everything = pages(sim, "/v5/order/history", query)
    ids = [o["orderId"] for o in everything]
    assert len(ids) == len(set(ids)) and set(resting + filled) <= set(ids)
    cancelled = pages(sim, "/v5/order/history", {**query, "orderStatus": "Cancelled"})
    assert {o["orderId"] for o in cancelled} == set(resting[:3])
    done = pages(sim, "/v5/order/history", {**query, "orderStatus": "Filled"})
    assert set(filled) <= {o["orderId"] for o in done}
    assert all(o["price"] != "0" for o in done)  # market orders show their protection price
    fills = pages(sim, "/v5/execution/list", query)
    assert set(filled) <= {f["orderId"] for f in fills}
    one = pages(sim, "/v5/execution/list", {**query, "orderId": filled[0]})
    assert one and {f["orderId"] for f in one} == {filled[0]}
    future = pages(sim, "/v5/execution/list", {**query, "startTime": "4102444800000"})
    assert future == []
    ok(signed(sim, "POST", "/v5/order/cancel-all", {"category": "linear", "symbol": "BTCUSDT"}))
    ok(
        signed(
            sim,
            "POST",
            "/v5/order/create",
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Sell",
                "orderType": "Market",
                "qty": "0.003",
                "reduceOnly": True,
            },
        )
    )


def test_other_categories_are_empty_lists(sim: SimThread) -> None:
    for category in ("inverse", "option"):
        for path in ("/v5/market/instruments-info", "/v5/market/tickers"):
            assert ok(signed(sim, "GET", path, {"category": category}))["list"] == []
        for path in (
            "/v5/position/list",
            "/v5/order/realtime",
            "/v5/order/history",
            "/v5/execution/list",
        ):
            assert ok(signed(sim, "GET", path, {"category": category}))["list"] == []
    unlisted = {"category": "linear", "symbol": "DOGEBTC"}
    assert ok(signed(sim, "GET", "/v5/market/instruments-info", unlisted))["list"] == []
    bad = signed(sim, "GET", "/v5/market/instruments-info", {"category": "futures"}).json()
    assert (bad["retCode"], bad["retMsg"]) == (10001, "Illegal category")


def test_risk_limits_funding_history_and_leverage(sim: SimThread) -> None:
    tiers = ok(
        signed(sim, "GET", "/v5/market/risk-limit", {"category": "linear", "symbol": "BTCUSDT"})
    )["list"]
    assert tiers[0]["isLowestRisk"] == 1 and tiers[0]["maxLeverage"] == "100.00"
    history = ok(
        signed(
            sim,
            "GET",
            "/v5/market/funding/history",
            {"category": "linear", "symbol": "BTCUSDT", "limit": "3"},
        )
    )["list"]
    stamps = [int(r["fundingRateTimestamp"]) for r in history]
    assert len(stamps) == 3 and all(a - b == 8 * 3600 * 1000 for a, b in itertools.pairwise(stamps))
    assert all(s % (8 * 3600 * 1000) == 0 for s in stamps)
    lev = {"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "4", "sellLeverage": "4"}
    ok(signed(sim, "POST", "/v5/position/set-leverage", lev))
    again = signed(sim, "POST", "/v5/position/set-leverage", lev).json()
    assert again["retCode"] == 110043
    place(sim, side="Buy", orderType="Market", qty="0.01")
    pos = ok(signed(sim, "GET", "/v5/position/list", {"category": "linear", "symbol": "BTCUSDT"}))[
        "list"
    ][0]
    assert pos["leverage"] == "4"
    assert Decimal(pos["positionIM"]) == Decimal(pos["positionValue"]) / 4
    wallet = ok(signed(sim, "GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}))
    usdt = next(c for c in wallet["list"][0]["coin"] if c["coin"] == "USDT")
    assert Decimal(usdt["totalPositionIM"]) == Decimal(pos["positionIM"])
    # A funding time passes: the long pays size x mark x rate, reported as an execution.
    assert sim.sim is not None
    before = Decimal(usdt["walletBalance"])
    funding = Funding(sim.sim.exchange, 28_800, Decimal("0.0001"))
    sim.call(lambda: funding.settle(sim.sim.exchange.clock.now_ms()))  # type: ignore[union-attr]
    wallet = ok(signed(sim, "GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}))
    after = Decimal(
        next(c for c in wallet["list"][0]["coin"] if c["coin"] == "USDT")["walletBalance"]
    )
    charged = before - after
    expected = Decimal("0.01") * Decimal(pos["markPrice"]) * Decimal("0.0001")
    assert abs(charged - expected) < expected / 50  # the mark moved a little meanwhile
    fees = pages(
        sim,
        "/v5/execution/list",
        {"category": "linear", "symbol": "BTCUSDT", "execType": "Funding"},
    )
    assert len(fees) == 1 and Decimal(fees[0]["execFee"]) == charged
    place(sim, side="Sell", orderType="Market", qty="0.01", reduceOnly=True)


def test_unknown_route_and_topic_in_stats(sim: SimThread) -> None:
    missing = signed(sim, "GET", "/v5/spot-margin-trade/data", {})
    assert missing.status_code == 404 and missing.json()["retCode"] == 10017

    async def scenario() -> None:
        ws = await RawWs.connect(sim.ws_url("/v5/public/linear"))
        try:
            await ws.send({"op": "subscribe", "args": ["liquidation.BTCUSDT"]})
            reply = await ws.until(lambda f: "success" in f)
            assert reply["success"] is False and "liquidation.BTCUSDT" in reply["ret_msg"]
        finally:
            await ws.ws.close()
            await ws.session.close()

    run(scenario(), 10)
    stats = wait_for(lambda: sim.stats(), what="stats")
    assert stats["unknown_routes"]["GET /v5/spot-margin-trade/data"] == 1
    assert stats["unknown_topics"]["linear:liquidation.BTCUSDT"] == 1
    assert json.dumps(stats)  # plain JSON
