"""The official SDK, pybit, unmodified except for its endpoint and WS URL templates
(docs/bybit-v5.md §1), trades against the simulator: orders, positions, wallet, executions and
both streams."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pybit import unified_trading
from simtools import API_KEY, API_SECRET, SimThread, wait_for

pytestmark = pytest.mark.slow


# pybit records a subscription's req_id only after sending it; an ack arriving first kills
# its socket (docs/bybit-v5.md §1). Real networks hide that; on a loaded CI machine a few ms of
# modelled latency may not, so these tests model a modest real-world 30 ms.
PYBIT_WS_LATENCY_MS = 30.0


@pytest.fixture
def pybit_urls(sim_factory: Any, monkeypatch: pytest.MonkeyPatch) -> SimThread:
    sim = sim_factory(ws_latency_ms=PYBIT_WS_LATENCY_MS)
    # The only change pybit needs: its URL templates, patched before constructing (§1).
    monkeypatch.setattr(unified_trading, "PUBLIC_WSS", sim.ws_url("/v5/public/{CHANNEL_TYPE}"))
    monkeypatch.setattr(unified_trading, "PRIVATE_WSS", sim.ws_url("/v5/private"))
    return sim


@pytest.fixture
def session(pybit_urls: SimThread) -> unified_trading.HTTP:
    http = unified_trading.HTTP(api_key=API_KEY, api_secret=API_SECRET, timeout=5)
    http.endpoint = pybit_urls.rest_url
    return http


class Collector:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.messages.append(message)

    def topic(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages if m.get("topic") == name]


@pytest.fixture
def sockets() -> Iterator[list[unified_trading.WebSocket]]:
    opened: list[unified_trading.WebSocket] = []
    yield opened
    for ws in opened:
        ws.exit()


def test_pybit_orders_positions_wallet_executions(
    session: unified_trading.HTTP, pybit_urls: SimThread
) -> None:
    book = session.get_orderbook(category="linear", symbol="BTCUSDT", limit=5)["result"]
    best_bid = Decimal(book["b"][0][0])
    info = session.get_instruments_info(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert info["priceFilter"]["tickSize"] == "0.10"

    placed = session.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.002",
        price=str(best_bid - 100),
        timeInForce="PostOnly",
        orderLinkId="pybit-1",
    )
    assert placed["retCode"] == 0
    order_id = placed["result"]["orderId"]
    amended = session.amend_order(
        category="linear", symbol="BTCUSDT", orderId=order_id, price=str(best_bid - 90)
    )
    assert amended["result"]["orderId"] == order_id
    listed = session.get_open_orders(category="linear", symbol="BTCUSDT")["result"]["list"]
    assert [(o["orderLinkId"], o["price"], o["orderStatus"]) for o in listed] == [
        ("pybit-1", f"{best_bid - 90:.2f}", "New")
    ]
    assert (
        session.cancel_order(category="linear", symbol="BTCUSDT", orderLinkId="pybit-1")["result"][
            "orderId"
        ]
        == order_id
    )
    assert session.get_open_orders(category="linear", symbol="BTCUSDT")["result"]["list"] == []

    session.place_order(
        category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.010"
    )
    position = session.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert (position["side"], position["size"]) == ("Buy", "0.010")
    executions = session.get_executions(category="linear", symbol="BTCUSDT")["result"]["list"]
    assert executions and all(not e["isMaker"] for e in executions)
    assert sum(Decimal(e["execQty"]) for e in executions) == Decimal("0.010")
    wallet = session.get_wallet_balance(accountType="UNIFIED", coin="USDT")["result"]["list"][0]
    usdt = wallet["coin"][0]
    fees = sum(Decimal(e["execFee"]) for e in executions)
    assert Decimal(usdt["walletBalance"]) == Decimal(100_000) - fees
    rates = session.get_fee_rates(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert Decimal(rates["makerFeeRate"]) < 0

    session.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Sell",
        orderType="Limit",
        qty="0.001",
        price=str(best_bid + 500),
        orderLinkId="pybit-2",
    )
    cancelled = session.cancel_all_orders(category="linear", symbol="BTCUSDT")["result"]
    assert [o["orderLinkId"] for o in cancelled["list"]] == ["pybit-2"]


def test_pybit_websockets_book_and_private_pushes(
    session: unified_trading.HTTP,
    pybit_urls: SimThread,
    sockets: list[unified_trading.WebSocket],
) -> None:
    public = Collector()
    ws_public = unified_trading.WebSocket(testnet=False, channel_type="linear")
    sockets.append(ws_public)
    ws_public.orderbook_stream(50, "BTCUSDT", public)
    private = Collector()
    ws_private = unified_trading.WebSocket(
        testnet=False, channel_type="private", api_key=API_KEY, api_secret=API_SECRET
    )
    sockets.append(ws_private)
    ws_private.order_stream(private)
    ws_private.execution_stream(private)
    wait_for(lambda: len(public.topic("orderbook.50.BTCUSDT")) >= 5, what="book messages")
    last = public.topic("orderbook.50.BTCUSDT")[-1]["data"]
    assert last["s"] == "BTCUSDT" and last["b"] and last["a"]
    wait_for(lambda: pybit_urls.stats()["ws_private_clients"] == 1, what="private client")
    wait_for(
        lambda: pybit_urls.call(
            lambda: all(
                c.topics == {"order", "execution"}
                for c in pybit_urls.sim.hub.conns
                if c.channel == "private"
            )
        ),
        what="private subscriptions",
    )

    bid = Decimal(session.get_orderbook(category="linear", symbol="BTCUSDT")["result"]["b"][0][0])
    session.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.001",
        price=str(bid - 1000),
        timeInForce="PostOnly",
        orderLinkId="ws-1",
    )
    session.place_order(
        category="linear", symbol="BTCUSDT", side="Sell", orderType="Market", qty="0.001"
    )
    wait_for(lambda: private.topic("execution"), what="execution push")
    statuses = [d["orderStatus"] for m in private.topic("order") for d in m["data"]]
    assert "New" in statuses and "Filled" in statuses


def test_pybit_ticker_trade_position_wallet_streams_and_unsubscribe(
    session: unified_trading.HTTP,
    pybit_urls: SimThread,
    sockets: list[unified_trading.WebSocket],
) -> None:
    public = Collector()
    ws_public = unified_trading.WebSocket(testnet=False, channel_type="linear")
    sockets.append(ws_public)
    ws_public.ticker_stream("BTCUSDT", public)
    ws_public.trade_stream("BTCUSDT", public)
    ws_public.orderbook_stream(1, "ETHUSDT", public)
    private = Collector()
    ws_private = unified_trading.WebSocket(
        testnet=False, channel_type="private", api_key=API_KEY, api_secret=API_SECRET
    )
    sockets.append(ws_private)
    ws_private.position_stream(private)
    ws_private.wallet_stream(private)
    wait_for(lambda: public.topic("tickers.BTCUSDT"), what="ticker")
    assert public.topic("tickers.BTCUSDT")[-1]["data"]["symbol"] == "BTCUSDT"
    wait_for(lambda: public.topic("orderbook.1.ETHUSDT"), what="level-1 book")
    pybit_urls.trade("Buy", "0.5")
    wait_for(lambda: public.topic("publicTrade.BTCUSDT"), what="public trade")

    def private_topics() -> set[str]:
        return set().union(*(c.topics for c in pybit_urls.sim.hub.conns if c.channel == "private"))

    wait_for(lambda: pybit_urls.call(private_topics) == {"position", "wallet"}, what="subs")
    session.place_order(
        category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.001"
    )
    wait_for(lambda: private.topic("position") and private.topic("wallet"), what="pushes")
    assert private.topic("position")[-1]["data"][0]["size"] == "0.001"

    ws_public.unsubscribe("orderbook.1.ETHUSDT")

    def public_topics() -> set[str]:
        return set().union(*(c.topics for c in pybit_urls.sim.hub.conns if c.channel == "linear"))

    wait_for(lambda: "orderbook.1.ETHUSDT" not in pybit_urls.call(public_topics), what="unsub")
    wait_for(  # pybit drops its callback when our unsubscribe ack (same req_id) arrives
        lambda: "orderbook.1.ETHUSDT" not in ws_public.callback_directory, what="pybit unsub"
    )
