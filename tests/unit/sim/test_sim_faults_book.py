"""Fault spec parsing and the book's price-time priority primitives."""

from __future__ import annotations

import pytest

from bot.sim.book import OrderBook
from bot.sim.faults import FaultSpecError, FaultState, parse_mapping, parse_spec
from bot.sim.instruments import default_instruments, fmt_fixed


def test_parse_spec_and_mapping() -> None:
    spec = parse_spec("ws_drop_every_s=30, latency_ms=5..50,http_5xx_rate=0.1,clock_skew_ms=-700")
    assert spec == {
        "ws_drop_every_s": 30.0,
        "latency_ms": (5.0, 50.0),
        "http_5xx_rate": 0.1,
        "clock_skew_ms": -700,
    }
    assert parse_mapping({"latency_ms": 5}) == {"latency_ms": (5.0, 5.0)}
    assert parse_spec("") == {}


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("nope=1", "unknown fault 'nope'"),
        ("http_5xx_rate=2", "rate must be in [0, 1]"),
        ("ws_drop_every_s=0", "seconds must be"),
        ("latency_ms=50..5", "invalid value"),
        ("latency_ms", "expected name=value"),
        ("clock_skew_ms=abc", "invalid value"),
    ],
)
def test_parse_spec_errors_name_the_item(spec: str, fragment: str) -> None:
    with pytest.raises(FaultSpecError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        parse_spec(spec)


def test_rates_are_seeded_and_counted() -> None:
    def rolls(seed: int) -> list[bool]:
        state = FaultState(seed, {"http_5xx_rate": 0.5})
        return [state.roll("http_5xx_rate") for _ in range(200)]

    first = rolls(3)
    assert first == rolls(3) and 50 < sum(first) < 150
    state = FaultState(3, {"http_5xx_rate": 0.5})
    hits = sum(state.roll("http_5xx_rate") for _ in range(100))
    assert state.injected["http_5xx_rate"] == hits


def test_periodic_faults_retry_until_applied() -> None:
    state = FaultState(0, {"book_gap_every_s": 1.0})
    now = 1e9
    assert state.due(now) == ["book_gap_every_s"]
    state.fired("book_gap_every_s", now, applied=False)
    assert state.due(now) == ["book_gap_every_s"] and state.injected["book_gap_every_s"] == 0
    state.fired("book_gap_every_s", now, applied=True)
    assert state.due(now) == [] and state.injected["book_gap_every_s"] == 1


def test_book_fifo_and_sweep() -> None:
    book = OrderBook()
    book.set_synthetic(100, 5, is_bid=False)
    marker = object()
    book.add_order(100, 3, marker, is_bid=False)  # type: ignore[arg-type]
    book.set_synthetic(100, 9, is_bid=False)  # more synthetic queues behind the user order
    book.set_synthetic(101, 4, is_bid=False)
    fills = book.sweep(taker_buy=True, limit_ticks=100, lots=10)
    assert [(f.ticks, f.lots, f.maker) for f in fills] == [
        (100, 5, None),
        (100, 3, marker),
        (100, 2, None),
    ]
    assert book.asks.top(2) == [(100, 2), (101, 4)]
    book.set_synthetic(100, 0, is_bid=False)
    assert book.asks.best() == 101


def test_fixed_point_strings() -> None:
    btc = default_instruments()[0]
    assert fmt_fixed(950001, 1) == "95000.1"
    assert btc.price_str(950001) == "95000.10"
    assert btc.qty_str(1) == "0.001"
    assert btc.to_ticks(btc.start_price) == 950000
    assert btc.to_lots(btc.qty_step * 3) == 3


def test_synthetic_churn_does_not_grow_a_level() -> None:
    book = OrderBook()
    marker = object()
    book.add_order(100, 1, marker, is_bid=True)  # type: ignore[arg-type]
    for size in [5, 3, 9, 2, 7, 4] * 200:
        book.set_synthetic(100, size, is_bid=True)
    assert len(book.bids.levels[100].entries) <= 2
    assert book.bids.levels[100].total == 4 + 1


def test_private_max_active_time_parsing() -> None:
    from bot.sim.ws import _max_active_time

    assert _max_active_time(None, 600.0) == 600.0
    assert _max_active_time("45s", 600.0) == 45.0
    assert _max_active_time("2m", 600.0) == 120.0
    assert _max_active_time("5s", 600.0) == 30.0  # clamped to Bybit's 30 s..600 s
    assert _max_active_time("99m", 600.0) == 600.0
    assert _max_active_time("²s", 600.0) == 600.0
    assert _max_active_time("abc", 600.0) == 600.0


def test_error_bursts_repeat_a_fired_error() -> None:
    state = FaultState(5, {"http_10016_rate": 0.05, "error_burst_ms": 60_000})
    rolls = [state.roll("http_10016_rate") for _ in range(400)]
    first = rolls.index(True)  # once it fires, the outage lasts the whole burst
    assert all(rolls[first:]) and state.injected["http_10016_rate"] == 400 - first
    assert parse_spec("error_burst_ms=250") == {"error_burst_ms": 250.0}
