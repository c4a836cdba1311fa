"""Order book: snapshot/delta rules, u continuity, crossed books, and a hypothesis model test
against a plain reference dict."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.book import BookAnomaly, OrderBook
from bot.domain import BookUpdate
from bot.venues.bybit.schemas import book_update
from tests.unit.bot.conftest import BTC


def msg(kind: str, u: int, bids: list[list[str]], asks: list[list[str]]) -> BookUpdate:
    """A Bybit ``orderbook.50`` push, through the Bybit venue's conversion."""
    return book_update(
        {
            "topic": "orderbook.50.BTCUSDT",
            "type": kind,
            "ts": 1,
            "data": {"s": "BTCUSDT", "b": bids, "a": asks, "u": u, "seq": u},
            "cts": 1,
        }
    )


def new_book() -> OrderBook:
    book = OrderBook("BTCUSDT", BTC.price_to_ticks)
    book.apply(msg("snapshot", 10, [["100.0", "1"], ["99.9", "2"]], [["100.1", "1"]]), 1.0)
    return book


def test_snapshot_then_delta() -> None:
    book = new_book()
    assert (book.best_bid, book.best_ask) == (1000, 1001)
    book.apply(msg("delta", 11, [["100.0", "0"], ["99.8", "3"]], [["100.2", "1"]]), 2.0)
    assert book.best_bid == 999
    assert book.levels("b") == [(999, "2"), (998, "3")]
    assert book.levels("a") == [(1001, "1"), (1002, "1")]


def test_delete_of_absent_level_is_noop() -> None:
    book = new_book()
    book.apply(msg("delta", 11, [["42.0", "0"]], []), 2.0)
    assert book.valid and book.best_bid == 1000


def test_duplicate_delta_is_skipped() -> None:
    book = new_book()
    book.apply(msg("delta", 11, [["99.0", "1"]], []), 2.0)
    book.apply(msg("delta", 11, [["99.0", "7"]], []), 3.0)  # resent: ignored
    assert book.valid and book.bids[990] == "1" and book.updated_s == 2.0


@pytest.mark.parametrize(("u", "reason"), [(13, "gap"), (9, "regression"), (5, "regression")])
def test_u_discontinuity(u: int, reason: str) -> None:
    book = new_book()
    with pytest.raises(BookAnomaly) as info:
        book.apply(msg("delta", u, [["99.0", "1"]], []), 2.0)
    assert info.value.reason == reason
    assert not book.valid
    with pytest.raises(BookAnomaly):  # still invalid until a snapshot
        book.apply(msg("delta", u + 1, [], []), 3.0)
    book.apply(msg("snapshot", 50, [["99.0", "1"]], [["99.5", "1"]]), 4.0)
    assert book.valid and book.best_bid == 990


def test_u1_is_a_reset_snapshot() -> None:
    book = new_book()
    book.apply(msg("delta", 1, [["50.0", "1"]], [["50.1", "1"]]), 2.0)
    assert (book.best_bid, book.best_ask, book.u) == (500, 501, 1)
    assert len(book.bids) == 1


def test_crossed_book_invalidates() -> None:
    book = new_book()
    with pytest.raises(BookAnomaly) as info:
        book.apply(msg("delta", 11, [["100.1", "5"]], []), 2.0)
    assert info.value.reason == "crossed" and not book.valid


prices = st.integers(min_value=1, max_value=40)
sizes = st.sampled_from(["0", "0.000", "1", "2.5", "0.001"])
side_levels = st.lists(st.tuples(prices, sizes), max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(side_levels, side_levels), min_size=1, max_size=40))
def test_random_deltas_match_reference_model(deltas: list[tuple[list, list]]) -> None:
    # bids live on ticks 1..40, asks on 101..140: never crossed, so every delta applies.
    book = OrderBook("X", int)
    book.apply(msg("snapshot", 1000, [], []), 0.0)
    model: dict[str, dict[int, str]] = {"b": {}, "a": {}}
    for i, (bids, asks) in enumerate(deltas):
        b = [[str(p), s] for p, s in bids]
        a = [[str(p + 100), s] for p, s in asks]
        book.apply(msg("delta", 1001 + i, b, a), float(i))
        for side, levels in (("b", b), ("a", a)):
            for price, size in levels:
                if Decimal(size) == 0:
                    model[side].pop(int(price), None)
                else:
                    model[side][int(price)] = size
        assert book.bids == model["b"] and book.asks == model["a"]
        assert book.best_bid == (max(model["b"]) if model["b"] else None)
        assert book.best_ask == (min(model["a"]) if model["a"] else None)
        assert [p for p, _ in book.levels("b", 100)] == sorted(model["b"], reverse=True)
        assert [p for p, _ in book.levels("a", 100)] == sorted(model["a"])


def test_bybit_conversion_fills_every_field_by_name() -> None:
    update = msg("delta", 7, [["1.0", "2"]], [["1.1", "3"]])
    assert update == BookUpdate(
        "BTCUSDT", False, 7, [["1.0", "2"]], [["1.1", "3"]], seq=7, ts_ms=1, cts_ms=1
    )
    assert update.update_id == 7 and update.cts_ms == 1 and not update.snapshot
    assert msg("delta", 1, [], []).snapshot  # u == 1: Bybit restarted, a snapshot
