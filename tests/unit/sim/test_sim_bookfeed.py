"""The orderbook stream logic without sockets: snapshot/delta diffs against the pushed view,
level-1 re-push, and the book faults, with a recording stand-in for a connection."""

from __future__ import annotations

import random
from typing import Any

import orjson

from bot.sim.bookfeed import BookFeed
from bot.sim.clock import FakeClock
from bot.sim.instruments import default_instruments
from bot.sim.market import SymbolMarket


class Recorder:
    """Stands in for a WsConnection: just records frames."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def send(self, data: bytes) -> None:
        self.frames.append(orjson.loads(data))


def make_feed() -> tuple[BookFeed, SymbolMarket]:
    market = SymbolMarket(default_instruments()[0], random.Random(1), book_levels=200)
    return BookFeed({"BTCUSDT": market}, FakeClock(), repush_s=3.0), market


def test_deltas_delete_levels_leaving_the_view() -> None:
    feed, market = make_feed()
    topic = feed.topics["orderbook.50.BTCUSDT"]
    conn = Recorder()
    feed.subscribe(topic, conn)  # type: ignore[arg-type]
    snapshot = conn.frames[0]
    assert snapshot["type"] == "snapshot" and len(snapshot["data"]["b"]) == 50
    best_bid = market.book.bids.best()
    assert best_bid is not None
    market.book.set_synthetic(best_bid + 1, 7, is_bid=True)  # a new best bid pushes one out
    feed.publish(topic, now=1.0)
    delta = conn.frames[-1]
    assert delta["type"] == "delta" and delta["data"]["u"] == snapshot["data"]["u"] + 1
    prices = dict(delta["data"]["b"])
    assert prices[market.inst.price_str(best_bid + 1)] == "0.007"
    assert "0.000" not in prices.values() and "0" in prices.values()  # the level that fell out
    feed.publish(topic, now=2.0)
    assert len(conn.frames) == 2  # nothing changed: nothing sent


def test_level1_repush_keeps_u_and_faults_shape_the_stream() -> None:
    feed, market = make_feed()
    level1 = feed.topics["orderbook.1.BTCUSDT"]
    conn = Recorder()
    feed.subscribe(level1, conn)  # type: ignore[arg-type]
    feed.publish(level1, now=level1.last_push + 3.1)
    assert [f["data"]["u"] for f in conn.frames] == [1, 1]

    topic = feed.topics["orderbook.50.BTCUSDT"]
    deep = Recorder()
    feed.subscribe(topic, deep)  # type: ignore[arg-type]
    assert feed.fault_gap() and feed.fault_dup()
    bid = market.book.bids.best()
    assert bid is not None
    market.book.set_synthetic(bid, 3, is_bid=True)
    feed.publish(topic, now=10.0)
    assert [f["data"]["u"] for f in deep.frames] == [1, 3, 3]  # skipped u=2, then duplicated
    assert feed.fault_reset()
    assert deep.frames[-1]["type"] == "snapshot" and deep.frames[-1]["data"]["u"] == 1
