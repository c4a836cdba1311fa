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


def _apply(book: dict[str, dict[str, str]], frame: dict[str, Any]) -> None:
    """A client's local book: a snapshot replaces it, a delta updates it (size "0" deletes)."""
    if frame["type"] == "snapshot":
        book["b"], book["a"] = {}, {}
    for side in ("b", "a"):
        for price, size in frame["data"][side]:
            if size == "0":
                book[side].pop(price, None)
            else:
                book[side][price] = size


def test_snapshots_follow_the_view_they_are_rendered_from() -> None:
    """Snapshots are rendered once per pushed view: never a stale one after the view moved."""
    feed, market = make_feed()
    level1 = feed.topics["orderbook.1.BTCUSDT"]
    conn = Recorder()
    feed.subscribe(level1, conn)  # type: ignore[arg-type]
    feed.publish(level1, now=level1.last_push + 3.1)  # re-push of the same view
    best_bid = market.book.bids.best()
    assert best_bid is not None
    market.book.set_synthetic(best_bid + 1, 7, is_bid=True)
    feed.publish(level1, now=level1.last_push + 0.01)  # changed: pushed at once
    feed.publish(level1, now=level1.last_push + 3.1)  # and re-pushed as changed
    bids = [f["data"]["b"] for f in conn.frames]
    assert bids[0] == bids[1] != bids[2] == bids[3]
    assert bids[2] == [[market.inst.price_str(best_bid + 1), "0.007"]]
    assert [f["data"]["u"] for f in conn.frames] == [1, 1, 2, 2]

    deep = feed.topics["orderbook.50.BTCUSDT"]
    early = Recorder()
    feed.subscribe(deep, early)  # type: ignore[arg-type]
    rng = random.Random(7)
    for step in range(30):  # the book moves; a late subscriber's snapshot must match
        bid = market.book.bids.best()
        assert bid is not None
        market.book.set_synthetic(bid - rng.randint(0, 5), rng.randint(1, 50), is_bid=True)
        feed.publish(deep, now=10.0 + step)
        if step == 10:
            feed.fault_crossed()
    late = Recorder()
    feed.subscribe(deep, late)  # type: ignore[arg-type]
    seen_early: dict[str, dict[str, str]] = {}
    seen_late: dict[str, dict[str, str]] = {}
    for frame in early.frames:
        _apply(seen_early, frame)
    for frame in late.frames:
        _apply(seen_late, frame)
    assert len(early.frames) > 10 and seen_late == seen_early
