"""WebSockets with a raw client: orderbook snapshot + consecutive deltas that rebuild the
exact book, level-1 re-push, subscribe failures, pong shapes, idle cut, private auth/pushes."""

from __future__ import annotations

import time
from typing import Any

from simtools import API_KEY, API_SECRET, SimThread, limit_order, signed, wait_for
from wsclient import LocalBook, RawWs, run


def test_orderbook_snapshot_then_consecutive_deltas_rebuild_the_book(sim: SimThread) -> None:
    async def scenario() -> None:
        first = await RawWs.connect(sim.ws_url("/v5/public/linear"))
        second = await RawWs.connect(sim.ws_url("/v5/public/linear"))
        try:
            await first.send({"op": "subscribe", "req_id": "r1", "args": ["orderbook.50.BTCUSDT"]})
            ack = await first.recv()
            assert ack == {
                "success": True,
                "ret_msg": "",
                "conn_id": ack["conn_id"],
                "req_id": "r1",
                "op": "subscribe",
            }
            book, history = LocalBook(), {}
            frame = await first.recv()
            assert frame["type"] == "snapshot" and frame["topic"] == "orderbook.50.BTCUSDT"
            book.apply(frame)
            for _ in range(40):
                frame = await first.until(lambda f: f.get("topic") == "orderbook.50.BTCUSDT")
                assert frame["type"] == "delta" and frame["data"]["seq"] >= 0 and frame["cts"] > 0
                book.apply(frame)
                assert not book.crossed() and len(book.bids) <= 50 and len(book.asks) <= 50
                history[book.u] = (dict(book.bids), dict(book.asks))
            # A later subscriber's snapshot equals the first client's rebuilt book at that u.
            await second.send({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
            snap = await second.until(lambda f: f.get("type") == "snapshot")
            u = snap["data"]["u"]
            while u not in history:
                frame = await first.until(lambda f: f.get("topic") == "orderbook.50.BTCUSDT")
                book.apply(frame)
                history[book.u] = (dict(book.bids), dict(book.asks))
            assert history[u] == (
                dict(snap["data"]["b"]),
                dict(snap["data"]["a"]),
            )
        finally:
            await first.close()
            await second.close()

    run(scenario())


def test_level1_is_snapshot_only_and_repushed_with_same_u(sim_factory: Any) -> None:
    server = sim_factory(tick_interval_ms=60_000.0, taker_rate_per_s=0.0, level1_repush_s=0.3)

    async def scenario() -> None:
        ws = await RawWs.connect(server.ws_url("/v5/public/spot"))
        try:
            await ws.send({"op": "subscribe", "args": ["orderbook.1.BTCUSDT"]})
            ack = await ws.recv()
            assert ack["ret_msg"] == "subscribe" and ack["success"] is True
            frames = [await ws.until(lambda f: "topic" in f) for _ in range(3)]
            assert {f["type"] for f in frames} == {"snapshot"}
            assert len({f["data"]["u"] for f in frames}) == 1
            assert all(len(f["data"]["b"]) == 1 and len(f["data"]["a"]) == 1 for f in frames)
        finally:
            await ws.close()

    run(scenario())


def test_unknown_topic_fails_the_whole_batch_and_pong_shapes(sim: SimThread) -> None:
    async def scenario() -> None:
        ws = await RawWs.connect(sim.ws_url("/v5/public/linear"))
        spot = await RawWs.connect(sim.ws_url("/v5/public/spot"))
        try:
            await ws.send(
                {
                    "op": "subscribe",
                    "req_id": "x",
                    "args": ["orderbook.50.BTCUSDT", "orderbook.500.BTCUSDT"],
                }
            )
            reply = await ws.recv()
            assert reply["success"] is False and reply["req_id"] == "x"
            assert reply["ret_msg"] == "error:handler not found,topic:orderbook.500.BTCUSDT"
            await ws.send({"op": "ping", "req_id": "p"})
            pong = await ws.recv()
            assert pong == {
                "success": True,
                "ret_msg": "pong",
                "conn_id": pong["conn_id"],
                "req_id": "p",
                "op": "ping",
            }  # no book frame came in between
            await spot.send({"op": "ping"})
            pong = await spot.recv()
            assert pong == {
                "success": True,
                "ret_msg": "pong",
                "conn_id": pong["conn_id"],
                "op": "ping",
            }
            await ws.send({"op": "subscribe", "args": ["publicTrade.BTCUSDT", "tickers.BTCUSDT"]})
            await ws.until(lambda f: f.get("op") == "subscribe" and f["success"])
            ticker = await ws.until(lambda f: f.get("topic") == "tickers.BTCUSDT")
            assert ticker["type"] == "snapshot" and ticker["data"]["markPrice"]
            trade = await ws.until(lambda f: f.get("topic") == "publicTrade.BTCUSDT", 10)
            assert trade["data"][0]["S"] in ("Buy", "Sell") and trade["data"][0]["p"]
        finally:
            await ws.close()
            await spot.close()

    run(scenario())


def test_idle_public_socket_is_closed(sim_factory: Any) -> None:
    server = sim_factory(public_idle_timeout_s=1.0)

    async def scenario() -> float:
        ws = await RawWs.connect(server.ws_url("/v5/public/linear"))
        started = time.monotonic()
        try:
            while await ws.recv(10) is not None:
                pass
            return time.monotonic() - started
        finally:
            await ws.close()

    assert 0.9 <= run(scenario()) < 8


def test_private_auth_and_pushes_match_rest(sim: SimThread) -> None:
    async def scenario() -> None:
        ws = await RawWs.connect(sim.ws_url("/v5/private"))
        try:
            await ws.send({"op": "subscribe", "req_id": "s0", "args": ["order"]})
            denied = await ws.recv()
            assert denied["success"] is False and denied["ret_msg"] == "Request not authorized"
            expired = await ws.auth(API_KEY, API_SECRET, expires_ms=int(time.time() * 1000) - 1)
            assert expired["success"] is False
            bad = await ws.auth(API_KEY, "wrong-secret")
            assert bad["success"] is False
            ok = await ws.auth(API_KEY, API_SECRET)
            assert ok == {
                "success": True,
                "ret_msg": "",
                "conn_id": ok["conn_id"],
                "op": "auth",
                "req_id": "a1",
            }
            await ws.send(
                {
                    "op": "subscribe",
                    "req_id": "s1",
                    "args": ["order", "execution", "position", "wallet"],
                }
            )
            assert (await ws.until(lambda f: f.get("op") == "subscribe"))["success"] is True
            await ws.send({"op": "ping", "req_id": "pp"})
            pong = await ws.until(lambda f: f.get("op") == "pong")
            assert pong["req_id"] == "pp" and pong["args"][0].isdigit()
            reply = signed(
                sim,
                "POST",
                "/v5/order/create",
                {
                    "category": "linear",
                    "symbol": "BTCUSDT",
                    "side": "Buy",
                    "orderType": "Market",
                    "qty": "0.002",
                },
            ).json()
            order_id = reply["result"]["orderId"]
            pushed = await ws.until(lambda f: f.get("topic") == "order")
            assert pushed["data"][-1]["orderId"] == order_id
            topics = {pushed["topic"]}
            while topics != {"order", "execution", "position", "wallet"}:
                topics.add((await ws.until(lambda f: "topic" in f))["topic"])
            rest = signed(
                sim, "GET", "/v5/order/realtime", {"category": "linear", "orderId": order_id}
            ).json()["result"]["list"][0]
            assert rest["orderStatus"] == "Filled" and rest["cumExecQty"] == "0.002"
        finally:
            await ws.close()

    run(scenario())


def test_dcp_cancels_orders_when_the_dcp_socket_is_gone(sim: SimThread) -> None:
    armed = signed(
        sim,
        "POST",
        "/v5/order/disconnected-cancel-all",
        {"product": "DERIVATIVES", "timeWindow": 3},
    ).json()
    assert armed["retCode"] == 0

    async def subscribe_then_leave() -> str:
        ws = await RawWs.connect(sim.ws_url("/v5/private"))
        try:
            assert (await ws.auth(API_KEY, API_SECRET))["success"] is True
            await ws.send({"op": "subscribe", "args": ["dcp.future", "order"]})
            assert (await ws.until(lambda f: f.get("op") == "subscribe"))["success"] is True
            placed = signed(
                sim,
                "POST",
                "/v5/order/create",
                limit_order("50000"),
            ).json()
            return str(placed["result"]["orderId"])
        finally:
            await ws.close()

    order_id = run(subscribe_then_leave())

    def status() -> tuple[str, str]:
        item = signed(
            sim, "GET", "/v5/order/realtime", {"category": "linear", "orderId": order_id}
        ).json()["result"]["list"][0]
        return item["orderStatus"], item["cancelType"]

    assert status() == ("New", "UNKNOWN")
    assert wait_for(lambda: status()[0] == "Cancelled", timeout_s=15, what="DCP")
    assert status() == ("Cancelled", "CancelByDCP")


def test_simulated_taker_flow_fills_a_resting_maker_order_with_rebate(sim_factory: Any) -> None:
    server = sim_factory(taker_rate_per_s=40.0)

    async def scenario() -> dict[str, Any]:
        ws = await RawWs.connect(server.ws_url("/v5/private"))
        try:
            assert (await ws.auth(API_KEY, API_SECRET))["success"] is True
            await ws.send({"op": "subscribe", "args": ["execution"]})
            await ws.until(lambda f: f.get("op") == "subscribe")
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:  # quote at the touch like a maker bot would
                signed(
                    server,
                    "POST",
                    "/v5/order/cancel-all",
                    {"category": "linear", "symbol": "BTCUSDT"},
                )
                book = signed(
                    server,
                    "GET",
                    "/v5/market/orderbook",
                    {"category": "linear", "symbol": "BTCUSDT"},
                ).json()["result"]
                signed(
                    server,
                    "POST",
                    "/v5/order/create",
                    limit_order(book["b"][0][0]),
                )
                try:
                    frame = await ws.until(lambda f: f.get("topic") == "execution", 2.0)
                except AssertionError:
                    continue
                return dict(frame["data"][0])
            raise AssertionError("no maker fill from the simulated flow")
        finally:
            await ws.close()

    execution = run(scenario())
    assert execution["isMaker"] is True and execution["side"] == "Buy"
    assert float(execution["execFee"]) < 0 and execution["feeRate"] == "-0.00005"


def test_trade_socket_order_entry(sim: SimThread) -> None:
    def header() -> dict[str, str]:
        return {"X-BAPI-TIMESTAMP": str(int(time.time() * 1000)), "X-BAPI-RECV-WINDOW": "5000"}

    order = limit_order("50000", orderLinkId="wt-1")

    async def scenario() -> None:
        ws = await RawWs.connect(sim.ws_url("/v5/trade"))
        try:
            await ws.send(
                {"reqId": "r0", "header": header(), "op": "order.create", "args": [order]}
            )
            denied = await ws.recv()
            assert (denied["reqId"], denied["retCode"]) == ("r0", 10003)
            ok = await ws.auth(API_KEY, API_SECRET)
            assert (ok["retCode"], ok["retMsg"], ok["op"]) == (0, "OK", "auth") and ok["connId"]
            assert (await ws.auth(API_KEY, API_SECRET))["retCode"] == 20001
            await ws.send(
                {"reqId": "r1", "header": header(), "op": "order.create", "args": [order]}
            )
            created = await ws.recv()
            assert created["retCode"] == 0 and created["data"]["orderLinkId"] == "wt-1"
            assert created["header"]["X-Bapi-Limit"] and created["op"] == "order.create"
            await ws.send(
                {"reqId": "r1", "header": header(), "op": "order.cancel", "args": [order]}
            )
            assert (await ws.recv())["retCode"] == 20006
            stale = {"X-BAPI-TIMESTAMP": "1", "X-BAPI-RECV-WINDOW": "5000"}
            await ws.send({"reqId": "r2", "header": stale, "op": "order.cancel", "args": [order]})
            assert (await ws.recv())["retCode"] == 10002
            await ws.send(
                {
                    "reqId": "r3",
                    "header": header(),
                    "op": "order.cancel",
                    "args": [{"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "wt-1"}],
                }
            )
            assert (await ws.recv())["retCode"] == 0
            await ws.send({"reqId": "r4", "header": header(), "op": "order.nope", "args": [{}]})
            assert (await ws.recv())["retCode"] == 10404
        finally:
            await ws.close()

    run(scenario())
    assert sim.stats()["orders_cancelled"] == 1
