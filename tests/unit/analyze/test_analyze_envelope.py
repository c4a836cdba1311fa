"""Bursts left out (soakctl.analyze.envelope): the opening, the burst test, and the verdicts."""

from __future__ import annotations

import random

import numpy as np
import pytest
import tracegen
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from soakctl.analyze.envelope import _running, is_bursty, opening, without_bursts
from soakctl.analyze.leak import detect_leak

MIB = 1 << 20
THRESHOLD = 10 * MIB
T0 = 1.78e9

series = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=300)


@settings(max_examples=200, deadline=None)
@given(series, st.integers(1, 61))
def test_running_min_and_max_match_a_plain_sliding_window(values: list[float], window: int) -> None:
    y = np.array(values)
    h = window // 2
    padded = np.concatenate([np.full(h, y[0]), y, np.full(h, y[-1])])
    view = sliding_window_view(padded, 2 * h + 1)
    assert np.array_equal(_running(y, window, np.minimum), view.min(axis=1))
    assert np.array_equal(_running(y, window, np.maximum), view.max(axis=1))


@settings(max_examples=200, deadline=None)
@given(series, st.integers(1, 61))
def test_opening_never_raises_a_value_and_is_idempotent(values: list[float], window: int) -> None:
    y = np.array(values)
    once = opening(y, window)
    assert np.all(once <= y)
    assert np.array_equal(opening(once, window), once)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=2, max_size=300),
       st.integers(1, 61))
def test_opening_keeps_a_series_that_never_falls(steps: list[float], window: int) -> None:
    """A trend, a staircase, a warm-up curve: nothing narrower than the window sticks up. Only
    the last half window is flattened (the edge could be a burst's rise: without_bursts takes
    a robust line out first, so a trend's end is kept)."""
    y = np.cumsum(steps)
    kept = max(y.size - window // 2, 0)
    out = opening(y, window)
    assert np.array_equal(out[:kept], y[:kept])
    assert np.all(out[kept:] == y[max(kept - 1, 0)])


def _bursty(rate_mib_per_h: float, seed: int, minutes: float = 30.0) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    """A churning process: a floor that hops by a MiB or two, 10-30 MiB held for 1-20 s
    about every 30 s (like benchmarks/corpus/churn), and a leak of ``rate_mib_per_h``."""
    gen = np.random.default_rng(seed)
    n = int(minutes * 60)
    el = np.arange(n, dtype=float)
    hops = np.repeat(gen.choice([0.0, 1.0, 2.0, 3.0], n // 60 + 1), 60)[:n] * MIB
    y = 60 * MIB + hops + gen.normal(0, 0.1 * MIB, n) + rate_mib_per_h * MIB * el / 3600
    at = 0.0
    while at < n:
        at += gen.exponential(30)
        held = int(gen.uniform(1, 20))
        y[int(at):int(at) + held] += gen.uniform(10, 30) * MIB
    return T0 + el, y


@pytest.mark.parametrize("seed", range(6))
def test_a_leak_under_allocation_bursts_is_found_and_the_bursts_alone_are_not(seed: int) -> None:
    t, leaking = _bursty(25.0, seed)
    _, clean = _bursty(0.0, seed)
    found = detect_leak("rss_bytes", t, leaking, THRESHOLD)
    assert found.status == "leak", found.reason
    assert found.bursts_left_out and "bursts" in found.reason
    assert found.slope_per_h is not None and found.slope_per_h / MIB == pytest.approx(25, rel=0.3)
    assert detect_leak("rss_bytes", t, clean, THRESHOLD).status != "leak"


def test_bursts_are_left_out_and_the_floor_kept() -> None:
    t, y = _bursty(25.0, 11)
    kept_t, kept_y = without_bursts(t, y, float(t[-1] - t[0]))
    floor = 60 * MIB + 25 * MIB * (kept_t - t[0]) / 3600
    assert 0.4 * t.size / 3 < kept_t.size < t.size / 3  # fine buckets of 3 s; bursts gone
    assert np.all(kept_y - floor < 4 * MIB)  # hops of up to 3 MiB stay, bursts of 10+ do not


@pytest.mark.parametrize("seed", range(4))
def test_which_series_are_bursty(seed: int) -> None:
    """Bursts are; noise, a GC sawtooth, a one-off step and glitches both ways are not."""
    thr_s = THRESHOLD / 3600
    assert is_bursty(*_bursty(0.0, seed), thr_s)
    rng = random.Random(seed)
    gen = np.random.default_rng(seed)
    t = T0 + np.arange(3600.0)
    el = t - t[0]
    assert not is_bursty(t, 100 * MIB + gen.normal(0, 2 * MIB, t.size), thr_s)
    saw = tracegen.sawtooth(rng, 60, 0.0)
    assert not is_bursty(saw.ts, saw.rss, thr_s)
    step = 100 * MIB + 80 * MIB * (el > 1700) + gen.normal(0, MIB, t.size)
    assert not is_bursty(t, step, thr_s)
    glitches = tracegen.two_sided_spikes(rng)
    assert not is_bursty(glitches.ts, glitches.rss, thr_s)


@pytest.mark.parametrize("cycles", [1.4, 2.0, 2.6])
def test_a_spiky_sawtooth_left_without_its_bursts_still_gives_its_growth_back(
        cycles: float) -> None:
    """Cutting the compaction spikes must not hide the drop after them: a ramp that falls back
    is no leak, however the bursts are judged."""
    rng = random.Random(3000 + int(cycles * 100))
    floored = 0
    for _ in range(10):
        tr = tracegen.spiky_sawtooth(rng, cycles)
        res = detect_leak("rss_bytes", tr.ts, tr.rss, THRESHOLD)
        assert res.status == "inconclusive", (cycles, res.reason)
        floored += res.bursts_left_out
    assert floored  # the draws include ones judged without their bursts
