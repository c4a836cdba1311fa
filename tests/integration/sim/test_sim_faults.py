"""Every fault type, set at runtime through ``POST /sim/faults``, observed from a client and
counted in ``/sim/stats``."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from simtools import SimThread, limit_order, signed
from wsclient import LocalBook, RawWs, run

BOOK = "orderbook.50.BTCUSDT"


async def book_frames(server: SimThread, count: int, topic: str = BOOK) -> list[dict[str, Any]]:
    ws = await RawWs.connect(server.ws_url("/v5/public/linear"))
    try:
        await ws.send({"op": "subscribe", "args": [topic]})
        return [await ws.until(lambda f: f.get("topic") == topic) for _ in range(count)]
    finally:
        await ws.close()


def collect_until(server: SimThread, predicate: Any, limit: int = 400) -> list[dict[str, Any]]:
    async def scenario() -> list[dict[str, Any]]:
        ws = await RawWs.connect(server.ws_url("/v5/public/linear"))
        frames: list[dict[str, Any]] = []
        try:
            await ws.send({"op": "subscribe", "args": [BOOK]})
            while len(frames) < limit:
                frames.append(await ws.until(lambda f: f.get("topic") == BOOK))
                if predicate(frames):
                    return frames
            raise AssertionError("fault never observed")
        finally:
            await ws.close()

    return run(scenario())


def us(frames: list[dict[str, Any]]) -> list[int]:
    return [f["data"]["u"] for f in frames]


def test_fault_control_endpoint(sim: SimThread) -> None:
    assert sim.set_faults({"ws_drop_every_s": 30, "latency_ms": "5..50"})["active"] == {
        "latency_ms": "5..50",
        "ws_drop_every_s": 30.0,
    }
    assert (
        requests.get(f"{sim.rest_url}/sim/faults", timeout=5).json()["active"]["ws_drop_every_s"]
        == 30.0
    )
    bad = requests.post(f"{sim.rest_url}/sim/faults", json={"nope": 1}, timeout=5)
    assert bad.status_code == 400 and "unknown fault 'nope'" in bad.json()["error"]
    assert sim.set_faults({})["active"] == {}


def test_book_gap_skips_an_update_id(sim: SimThread) -> None:
    sim.set_faults({"book_gap_every_s": 0.3})
    frames = collect_until(sim, lambda fs: len(fs) > 1 and us(fs)[-1] - us(fs)[-2] == 2)
    assert frames[-1]["type"] == "delta"
    assert sim.stats()["faults_injected"]["book_gap_every_s"] >= 1


def test_book_reset_sends_u1_snapshot(sim: SimThread) -> None:
    sim.set_faults({"book_reset_every_s": 0.3})
    frames = collect_until(sim, lambda fs: len(fs) > 1 and fs[-1]["data"]["u"] == 1)
    assert frames[-1]["type"] == "snapshot" and frames[-1]["data"]["b"]
    assert sim.stats()["faults_injected"]["book_reset_every_s"] >= 1


def test_book_duplicate_delta(sim: SimThread) -> None:
    sim.set_faults({"book_dup_every_s": 0.3})
    frames = collect_until(sim, lambda fs: len(fs) > 1 and fs[-1] == fs[-2])
    assert frames[-1]["type"] == "delta"


def test_book_reordered_deltas(sim: SimThread) -> None:
    sim.set_faults({"book_reorder_every_s": 0.3})
    frames = collect_until(sim, lambda fs: len(fs) > 1 and us(fs)[-1] < us(fs)[-2])
    assert us(frames)[-2] - us(frames)[-1] == 1


def test_book_crossed(sim: SimThread) -> None:
    sim.set_faults({"book_crossed_every_s": 0.3})
    book = LocalBook()

    def crossed(frames: list[dict[str, Any]]) -> bool:
        book.apply(frames[-1])
        return book.crossed()

    collect_until(sim, crossed)
    assert sim.stats()["faults_injected"]["book_crossed_every_s"] >= 1


def test_book_stale_freezes_the_stream_but_not_the_socket(sim: SimThread) -> None:
    async def scenario() -> float:
        ws = await RawWs.connect(sim.ws_url("/v5/public/linear"))
        try:
            await ws.send({"op": "subscribe", "args": ["orderbook.1.BTCUSDT"]})
            await ws.until(lambda f: f.get("topic") == "orderbook.1.BTCUSDT")
            sim.set_faults({"book_stale_every_s": 0.2, "book_stale_s": 1.0})
            last = time.monotonic()
            while True:
                frame = await ws.until(lambda f: f.get("topic") == "orderbook.1.BTCUSDT")
                now = time.monotonic()
                if now - last >= 0.8:
                    await ws.send({"op": "ping"})
                    await ws.until(lambda f: f.get("ret_msg") == "pong")
                    assert frame["type"] == "snapshot"
                    return now - last
                last = now
        finally:
            await ws.close()

    assert run(scenario()) >= 0.8


def test_ws_drop_closes_with_1006(sim: SimThread) -> None:
    async def scenario() -> int | None:
        ws = await RawWs.connect(sim.ws_url("/v5/public/linear"))
        try:
            await ws.send({"op": "subscribe", "args": [BOOK]})
            sim.set_faults({"ws_drop_every_s": 0.3})
            while await ws.recv(10) is not None:
                pass
            return ws.ws.close_code
        finally:
            await ws.close()

    assert run(scenario()) == 1006
    assert sim.stats()["faults_injected"]["ws_drop_every_s"] >= 1


def test_ws_stall_keeps_socket_open_but_silent(sim: SimThread) -> None:
    async def scenario() -> float:
        ws = await RawWs.connect(sim.ws_url("/v5/public/linear"))
        try:
            await ws.send({"op": "subscribe", "args": ["orderbook.1.BTCUSDT"]})
            await ws.until(lambda f: "topic" in f)
            sim.set_faults({"ws_stall_every_s": 0.2, "ws_stall_s": 1.0})
            last = time.monotonic()
            while True:
                await ws.until(lambda f: "topic" in f)
                now = time.monotonic()
                if now - last >= 0.8:
                    return now - last  # frames resumed on the same socket after the silence
                last = now
        finally:
            await ws.close()

    assert run(scenario()) >= 0.8
    assert sim.stats()["faults_injected"]["ws_stall_every_s"] >= 1


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ("http_5xx_rate", lambda r: r.status_code == 503),
        ("http_10016_rate", lambda r: r.status_code == 200 and r.json()["retCode"] == 10016),
        (
            "rate_limit_rate",
            lambda r: (
                r.json()["retCode"] == 10006
                and int(r.headers["X-Bapi-Limit-Reset-Timestamp"]) > time.time() * 1000
            ),
        ),
    ],
)
def test_rest_error_faults(sim: SimThread, fault: str, check: Any) -> None:
    sim.set_faults({fault: 1.0})
    reply = signed(sim, "GET", "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"})
    assert check(reply)
    assert sim.stats()["faults_injected"][fault] == 1


def test_latency_distribution(sim: SimThread) -> None:
    sim.set_faults({"latency_ms": "150..200"})
    started = time.monotonic()
    requests.get(f"{sim.rest_url}/v5/market/time", timeout=5)
    assert time.monotonic() - started >= 0.15


def test_ghost_order_is_accepted_but_never_answered(sim: SimThread) -> None:
    sim.set_faults({"ghost_order_rate": 1.0})
    params = limit_order("50000", time_in_force="GTC", orderLinkId="ghost-1")
    with pytest.raises(requests.exceptions.RequestException):
        signed(sim, "POST", "/v5/order/create", params, timeout_s=0.3)
    sim.set_faults({})
    found = signed(
        sim, "GET", "/v5/order/realtime", {"category": "linear", "orderLinkId": "ghost-1"}
    )
    assert [o["orderStatus"] for o in found.json()["result"]["list"]] == ["New"]
    assert sim.stats()["faults_injected"]["ghost_order_rate"] == 1


def test_clock_skew_moves_server_time_and_causes_10002(sim: SimThread) -> None:
    sim.set_faults({"clock_skew_ms": -20_000})
    server_s = int(
        requests.get(f"{sim.rest_url}/v5/market/time", timeout=5).json()["result"]["timeSecond"]
    )
    assert 15 <= time.time() - server_s <= 25
    reply = signed(sim, "GET", "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"})
    assert reply.json()["retCode"] == 10002


def test_error_burst_is_an_outage(sim: SimThread) -> None:
    sim.set_faults({"http_10016_rate": 0.2, "error_burst_ms": 1500})

    def code() -> int:
        reply = signed(
            sim, "GET", "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"}
        )
        return int(reply.json()["retCode"])

    for _ in range(200):
        if code() == 10016:
            break
    started = time.monotonic()
    during = [code() for _ in range(5)]
    if time.monotonic() - started < 1.4:  # all five fell inside the burst window
        assert during == [10016] * 5
