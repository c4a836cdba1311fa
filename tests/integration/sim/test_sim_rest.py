"""REST over real sockets: envelope and headers, auth retCodes, raw-bytes signatures from
differently built clients, rate limits, validation errors, and never an HTML page or a 500."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import requests
from simtools import API_KEY, SimThread, limit_order, signed

ORDER = limit_order("50000")


def body(reply: requests.Response) -> dict[str, Any]:
    assert reply.headers["Content-Type"].startswith("application/json")
    return reply.json()


def test_envelope_and_rate_limit_headers(sim: SimThread) -> None:
    reply = requests.get(f"{sim.rest_url}/v5/market/time", timeout=5)
    data = body(reply)
    assert data["retCode"] == 0 and set(data) == {
        "retCode",
        "retMsg",
        "result",
        "retExtInfo",
        "time",
    }
    assert abs(int(data["result"]["timeSecond"]) - time.time()) < 5
    for name in ("X-Bapi-Limit", "X-Bapi-Limit-Status", "X-Bapi-Limit-Reset-Timestamp", "Timenow"):
        assert reply.headers[name].isdigit()
    created = signed(sim, "POST", "/v5/order/create", ORDER)
    assert body(created)["retCode"] == 0 and created.headers["X-Bapi-Limit"] == "10"


def test_auth_failures(sim: SimThread) -> None:
    assert body(signed(sim, "POST", "/v5/order/create", ORDER, secret="wrong"))["retCode"] == 10004
    assert body(signed(sim, "POST", "/v5/order/create", ORDER, key="unknown"))["retCode"] == 10003
    stale = signed(
        sim, "POST", "/v5/order/create", ORDER, timestamp_ms=int(time.time() * 1000) - 60_000
    )
    assert body(stale)["retCode"] == 10002 and "recv_window[5000]" in body(stale)["retMsg"]
    unsigned = requests.post(f"{sim.rest_url}/v5/order/create", json=ORDER, timeout=5)
    assert body(unsigned)["retCode"] == 10001
    assert API_KEY not in json.dumps(
        body(signed(sim, "GET", "/v5/order/realtime", {"category": "linear"}, secret="x"))
    )


def test_auth_errors_can_be_http_401(sim_factory: Any) -> None:
    server = sim_factory(auth_error_http_status=401)
    reply = signed(server, "POST", "/v5/order/create", ORDER, secret="wrong")
    assert reply.status_code == 401 and body(reply)["retCode"] == 10004
    assert signed(server, "POST", "/v5/order/create", ORDER).status_code == 200


def test_signature_is_checked_on_raw_bytes(sim: SimThread) -> None:
    # Hummingbot-style: URL-encoded, unsorted query; a body with unusual spacing.
    query = urlencode({"symbol": "BTCUSDT", "category": "linear", "coin": "USDT,USDC"})
    reply = signed(sim, "GET", "/v5/order/realtime", query=query)
    assert body(reply)["retCode"] == 0
    raw = (
        '{ "category" :"linear","symbol":"BTCUSDT" ,"side":"Buy","orderType":"Limit",'
        '"qty":"0.001","price":"50000.0"}'
    )
    assert body(signed(sim, "POST", "/v5/order/create", body=raw))["retCode"] == 0
    wallet = signed(
        sim, "GET", "/v5/account/wallet-balance", query="accountType=UNIFIED&coin=USDT,BTC"
    )
    assert body(wallet)["retCode"] == 0


def test_rate_limit_10006_with_reset_header(sim_factory: Any) -> None:
    server = sim_factory(rate_limits=True)
    codes = []
    for i in range(60):  # 10/s for linear cancels: some window overflows whatever the speed
        sent_ms = int(time.time() * 1000)
        reply = signed(
            server,
            "POST",
            "/v5/order/cancel",
            {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": f"x{i}"},
        )
        codes.append(body(reply)["retCode"])
        if codes[-1] == 10006:
            assert reply.headers["X-Bapi-Limit"] == "10"
            assert reply.headers["X-Bapi-Limit-Status"] == "0"
            assert int(reply.headers["X-Bapi-Limit-Reset-Timestamp"]) > sent_ms
            break
        assert codes[-1] == 110001  # under the limit: served (unknown order)
    assert codes[-1] == 10006 and len(codes) >= 11


def test_validation_and_routing_errors(sim: SimThread) -> None:
    cases = [
        ({**ORDER, "price": "50000.05"}, 10001),
        ({**ORDER, "qty": "abc"}, 10001),
        ({**ORDER, "symbol": "DOGEUSDT"}, 10001),
        ({**ORDER, "category": "spot", "price": "50000.001"}, 170134),
        ({**ORDER, "orderLinkId": "bad id with spaces"}, 10001),
    ]
    for params, code in cases:
        assert body(signed(sim, "POST", "/v5/order/create", params))["retCode"] == code, params
    assert body(signed(sim, "POST", "/v5/order/create", body="{not json"))["retCode"] == 10001
    assert body(signed(sim, "POST", "/v5/order/create", body="[1, 2]"))["retCode"] == 10001
    missing = signed(sim, "POST", "/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT"})
    assert body(missing)["retMsg"] == "params error: OrderId or orderLinkId is required"
    unknown = signed(
        sim,
        "POST",
        "/v5/order/cancel",
        {"category": "linear", "symbol": "BTCUSDT", "orderId": "nope"},
    )
    assert body(unknown)["retCode"] == 110001
    not_found = requests.get(f"{sim.rest_url}/v5/no/such/thing", timeout=5)
    assert not_found.status_code == 404 and body(not_found)["retCode"] == 10017
    wrong_method = requests.get(f"{sim.rest_url}/v5/order/create", timeout=5)
    assert wrong_method.status_code == 405 and body(wrong_method)["retCode"] == 10017
    outside = requests.get(f"{sim.rest_url}/index.html", timeout=5)
    assert outside.status_code == 404 and body(outside)["retCode"] == 10017


def test_duplicate_link_id_and_lists(sim: SimThread) -> None:
    first = body(signed(sim, "POST", "/v5/order/create", {**ORDER, "orderLinkId": "same"}))
    again = body(signed(sim, "POST", "/v5/order/create", {**ORDER, "orderLinkId": "same"}))
    assert (first["retCode"], again["retCode"]) == (0, 110072)
    by_link = body(
        signed(sim, "GET", "/v5/order/realtime", {"category": "linear", "orderLinkId": "same"})
    )
    assert [o["orderId"] for o in by_link["result"]["list"]] == [first["result"]["orderId"]]
    stats = sim.stats()
    assert stats["open_orders"] == 1 and stats["orders_created"] == 1


def test_batch_endpoints_report_per_item_codes(sim: SimThread) -> None:
    items = [
        {**ORDER, "orderLinkId": "b-1"},
        {**ORDER, "orderLinkId": "b-2", "price": "50000.1"},
        {**ORDER, "orderLinkId": "b-1"},
    ]
    for item in items:
        del item["category"]
    reply = body(
        signed(sim, "POST", "/v5/order/create-batch", {"category": "linear", "request": items})
    )
    assert reply["retCode"] == 0
    assert [c["code"] for c in reply["retExtInfo"]["list"]] == [0, 0, 110072]
    assert [o["orderLinkId"] for o in reply["result"]["list"]] == ["b-1", "b-2", "b-1"]
    assert reply["result"]["list"][0]["createAt"].isdigit()
    cancelled = body(
        signed(
            sim,
            "POST",
            "/v5/order/cancel-batch",
            {
                "category": "linear",
                "request": [
                    {"symbol": "BTCUSDT", "orderLinkId": "b-1"},
                    {"symbol": "BTCUSDT", "orderLinkId": "nope"},
                ],
            },
        )
    )
    assert [c["code"] for c in cancelled["retExtInfo"]["list"]] == [0, 110001]
    too_many = signed(sim, "POST", "/v5/order/create-batch", {"category": "linear", "request": []})
    assert body(too_many)["retCode"] == 10001


def test_hostile_numbers_are_params_errors(sim: SimThread) -> None:
    for value in ("1e999999", "9" * 5000, "²", "٣", "0E-100", "-0.001", "inf"):
        reply = body(signed(sim, "POST", "/v5/order/create", {**ORDER, "qty": value}))
        assert reply["retCode"] == 10001, value
        listed = signed(
            sim,
            "GET",
            "/v5/order/realtime",
            query=urlencode({"category": "linear", "symbol": "BTCUSDT", "limit": value}),
        )
        assert body(listed)["retCode"] == 10001, value
    ts_header = signed(
        sim,
        "GET",
        "/v5/order/realtime",
        {"category": "linear", "symbol": "BTCUSDT"},
        recv_window="9" * 300,
    )
    assert body(ts_header)["retCode"] == 10001
    assert sim.stats()["internal_errors"] == 0
