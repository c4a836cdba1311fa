"""Candles from prints: any sequence of trades gives 1m candles whose OHLCV match the trades,
longer intervals that aggregate them exactly, and cached rows equal to a fresh render."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sim.instruments import default_instruments
from bot.sim.klines import MINUTE_MS, SymbolTape, bucket_start, render

BTC = default_instruments()[0]
T0 = 1_796_000_000_000 // (60 * MINUTE_MS) * (60 * MINUTE_MS)  # on the hour

trades = st.lists(
    st.tuples(st.integers(0, 40 * MINUTE_MS), st.integers(940_000, 960_000), st.integers(1, 5000)),
    min_size=1,
    max_size=200,
)


def print_of(offset_ms: int, ticks: int, lots: int) -> dict[str, Any]:
    return {"T": T0 + offset_ms, "p": BTC.price_str(ticks), "v": BTC.qty_str(lots)}


@settings(max_examples=60, deadline=None)
@given(trades=trades, interval=st.sampled_from(["1", "3", "5", "15", "30", "60"]))
def test_candles_match_the_trades(trades: list[tuple[int, int, int]], interval: str) -> None:
    trades.sort()
    tape = SymbolTape(BTC)
    for offset, ticks, lots in trades:
        tape.record(print_of(offset, ticks, lots))
    now = T0 + trades[-1][0]
    candles = tape.candles(interval, 0, now, 1000, now)
    starts = [c.start_ms for c in candles]
    assert starts == sorted(starts, reverse=True) and len(set(starts)) == len(starts)
    for candle in candles:
        inside = [
            (t, p, v) for t, p, v in trades if bucket_start(T0 + t, interval) == candle.start_ms
        ]
        if inside:
            assert candle.high == max(p for _, p, _ in inside)
            assert candle.low == min(p for _, p, _ in inside)
            assert candle.close == inside[-1][1]
            assert candle.volume_lots == sum(v for _, _, v in inside)
            assert candle.turnover_units == sum(p * v for _, p, v in inside)
        else:  # no trade: flat at the previous close, zero volume
            assert candle.volume_lots == 0 and candle.high == candle.low == candle.close
    # Rendered rows (closed ones cached) equal a fresh render, twice over.
    fresh = [render(BTC, c) for c in candles]
    assert tape.rows(interval, 0, now, 1000, now) == fresh
    assert tape.rows(interval, 0, now, 1000, now) == fresh


def test_limit_and_window_pick_the_newest_candles() -> None:
    tape = SymbolTape(BTC)
    for minute in range(10):
        tape.record(print_of(minute * MINUTE_MS, 950_000 + minute, 1))
    now = T0 + 9 * MINUTE_MS
    newest = tape.rows("1", 0, now, 3, now)
    assert [int(r[0]) for r in newest] == [T0 + m * MINUTE_MS for m in (9, 8, 7)]
    window = tape.rows("1", T0 + 2 * MINUTE_MS, T0 + 4 * MINUTE_MS, 1000, now)
    assert [int(r[0]) for r in window] == [T0 + m * MINUTE_MS for m in (4, 3, 2)]
