"""The ``orderbook.{depth}.{symbol}`` streams: snapshot, then deltas at each depth's cadence.

Per topic we keep the last view pushed and its update id ``u``. A push diffs the book's current
top-N against that view, so deltas are exact for a client that applied everything before (levels
leaving the top-N are deleted with size ``"0"``, never a level the client does not have).
Level 1 is snapshot-only and re-pushed with the same ``u`` when unchanged for 3 s
(docs/bybit-v5.md §7). The book faults act here: skipped ``u``, duplicated and reordered
deltas, a ``u=1`` reset snapshot, a crossed level, and a frozen (stale) stream.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.sim.wire import dumps

if TYPE_CHECKING:
    from bot.sim.clock import Clock
    from bot.sim.market import SymbolMarket
    from bot.sim.wsconn import WsConnection

Levels = list[list[str]]  # [[price, size], ...] as on the wire

# depth -> push interval in ms (linear and spot, docs/bybit-v5.md §7)
DEPTHS_MS = {1: 10, 50: 20, 200: 100, 1000: 200}
# Cadence slots are sums of floats: a re-push exactly one slot apart may compute a hair short.
CLOCK_SLACK_S = 1e-6


@dataclass(slots=True)
class BookTopic:
    name: str
    depth: int
    market: SymbolMarket
    subs: set[WsConnection] = field(default_factory=set)
    u: int = 0
    bids: dict[int, int] | None = None  # last pushed view: ticks -> lots
    asks: dict[int, int] | None = None
    version: int = -1
    last_push: float = 0.0
    gap: bool = False
    dup: bool = False
    reorder: bool = False
    held: bytes | None = None
    frozen_until: float = 0.0
    rendered: tuple[Levels, Levels] | None = None  # the pushed view as wire text, once per view

    def set_view(self, bids: dict[int, int] | None, asks: dict[int, int] | None) -> None:
        self.bids, self.asks = bids, asks
        self.rendered = None


class BookFeed:
    """All orderbook topics of one category, and their publisher step."""

    def __init__(self, markets: dict[str, SymbolMarket], clock: Clock, *, repush_s: float) -> None:
        self.clock = clock
        self.repush_s = repush_s
        self.topics: dict[str, BookTopic] = {}
        for symbol, market in markets.items():
            for depth in DEPTHS_MS:
                name = f"orderbook.{depth}.{symbol}"
                self.topics[name] = BookTopic(name, depth, market)

    def active(self) -> list[BookTopic]:
        return [t for t in self.topics.values() if t.subs]

    def _view(self, topic: BookTopic) -> tuple[dict[int, int], dict[int, int]]:
        book = topic.market.book
        return dict(book.bids.top(topic.depth)), dict(book.asks.top(topic.depth))

    @staticmethod
    def _render(topic: BookTopic, levels: list[tuple[int, int]]) -> Levels:
        inst = topic.market.inst
        return [[inst.price_str(p), inst.qty_str(q) if q else "0"] for p, q in levels]

    def _message(self, topic: BookTopic, kind: str, bids: Levels, asks: Levels) -> bytes:
        return dumps(
            {
                "topic": topic.name,
                "type": kind,
                "ts": self.clock.now_ms(),
                "data": {
                    "s": topic.market.inst.symbol,
                    "b": bids,
                    "a": asks,
                    "u": topic.u,
                    "seq": topic.market.seq,
                },
                "cts": topic.market.cts_ms or self.clock.now_ms(),
            }
        )

    def _delta(
        self, topic: BookTopic, bids: list[tuple[int, int]], asks: list[tuple[int, int]]
    ) -> bytes:
        return self._message(topic, "delta", self._render(topic, bids), self._render(topic, asks))

    def _snapshot(self, topic: BookTopic) -> bytes:
        # Rendered once per view: level 1 re-pushes an unchanged view at every step.
        if topic.rendered is None:
            assert topic.bids is not None and topic.asks is not None
            bids = self._render(topic, sorted(topic.bids.items(), reverse=True))
            topic.rendered = bids, self._render(topic, sorted(topic.asks.items()))
        return self._message(topic, "snapshot", *topic.rendered)

    def subscribe(self, topic: BookTopic, conn: WsConnection) -> None:
        """Add a subscriber and send it a snapshot consistent with what others have."""
        if not topic.subs or topic.bids is None:
            topic.set_view(*self._view(topic))
            topic.version = topic.market.book.version
            topic.u += 1
            topic.last_push = time.monotonic()
        topic.subs.add(conn)
        conn.send(self._snapshot(topic))

    def unsubscribe(self, topic: BookTopic, conn: WsConnection) -> None:
        topic.subs.discard(conn)
        if not topic.subs:
            topic.set_view(None, None)
            topic.held = None

    def _fanout(self, topic: BookTopic, data: bytes) -> None:
        for conn in list(topic.subs):
            conn.send(data)

    def publish(self, topic: BookTopic, now: float) -> None:
        """One cadence step for ``topic``: push what changed since the last push."""
        if not topic.subs or topic.bids is None or topic.asks is None or now < topic.frozen_until:
            return
        book_version = topic.market.book.version
        if topic.depth == 1:
            if book_version != topic.version:
                bids, asks = self._view(topic)
                topic.version = book_version
                if bids != topic.bids or asks != topic.asks:
                    topic.set_view(bids, asks)
                    topic.u += 1
                    topic.last_push = now
                    self._fanout(topic, self._snapshot(topic))
                    return
            if now - topic.last_push >= self.repush_s - CLOCK_SLACK_S:
                topic.last_push = now
                self._fanout(topic, self._snapshot(topic))
            return
        if book_version == topic.version:
            return
        topic.version = book_version
        bids, asks = self._view(topic)
        bid_delta = _diff(topic.bids, bids, reverse=True)
        ask_delta = _diff(topic.asks, asks, reverse=False)
        if not bid_delta and not ask_delta:
            return
        topic.set_view(bids, asks)
        topic.u += 2 if topic.gap else 1
        topic.gap = False
        topic.last_push = now
        data = self._delta(topic, bid_delta, ask_delta)
        if topic.held is not None:
            self._fanout(topic, data)
            self._fanout(topic, topic.held)
            topic.held = None
            return
        if topic.reorder:
            topic.reorder = False
            topic.held = data
            return
        self._fanout(topic, data)
        if topic.dup:
            topic.dup = False
            self._fanout(topic, data)

    # --- faults ------------------------------------------------------------------------------

    def _delta_topics(self) -> list[BookTopic]:
        return [t for t in self.active() if t.depth > 1 and t.bids is not None]

    def fault_gap(self) -> bool:
        topics = self._delta_topics()
        for topic in topics:
            topic.gap = True
        return bool(topics)

    def fault_dup(self) -> bool:
        topics = self._delta_topics()
        for topic in topics:
            topic.dup = True
        return bool(topics)

    def fault_reorder(self) -> bool:
        topics = self._delta_topics()
        for topic in topics:
            topic.reorder = True
        return bool(topics)

    def fault_reset(self) -> bool:
        """Service restart: a snapshot with ``u=1`` on every active topic."""
        topics = [t for t in self.active() if t.bids is not None]
        for topic in topics:
            topic.set_view(*self._view(topic))
            topic.version = topic.market.book.version
            topic.u = 1
            topic.held = None
            self._fanout(topic, self._snapshot(topic))
        return bool(topics)

    def fault_crossed(self) -> bool:
        """A delta adding a bid one tick above the best ask; the next delta removes it."""
        topics = self._delta_topics()
        for topic in topics:
            assert topic.bids is not None and topic.asks is not None
            if not topic.asks:
                continue
            price = min(topic.asks) + 1
            lots = max(1, round(topic.market.mean_level_lots))
            topic.bids[price] = lots
            topic.rendered = None
            topic.version = -1  # force the next step to diff (and so delete the bogus level)
            topic.u += 1
            self._fanout(topic, self._delta(topic, [(price, lots)], []))
        return bool(topics)

    def fault_stale(self, duration_s: float) -> bool:
        topics = self.active()
        until = time.monotonic() + duration_s
        for topic in topics:
            topic.frozen_until = until
        return bool(topics)


def _diff(old: dict[int, int], new: dict[int, int], *, reverse: bool) -> list[tuple[int, int]]:
    changes = [(p, q) for p, q in new.items() if old.get(p) != q]
    changes.extend((p, 0) for p in old if p not in new)
    changes.sort(reverse=reverse)
    return changes
