"""The leak detector on shapes with a known truth (dev-set shapes and the held-back kinds).

Each shape is drawn a few times with fixed seeds: the detector must be right on every draw.
The broad statistical check (hundreds of traces) lives in benchmarks/bench_analyze.py.
"""

from __future__ import annotations

import random
import zlib

import numpy as np
import pytest
import tracegen

from soakctl.analyze.leak import detect_leak

MIB = 1 << 20
THRESHOLD = 10 * MIB


def _judge(tr: tracegen.Trace):  # type: ignore[no-untyped-def]
    return detect_leak(
        "rss_bytes", tr.ts, tr.rss, THRESHOLD, tr.restarts, scale=1 / MIB, unit="MiB"
    )


@pytest.mark.parametrize("shape", tracegen.SHAPES, ids=lambda s: s.__name__)
def test_held_back_shapes(shape) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(zlib.crc32(shape.__name__.encode()))
    for _ in range(3):
        tr = shape(rng)
        res = _judge(tr)
        assert res.detected == tr.leak, (tr.shape, res.status, res.reason)
        if tr.leak:
            assert res.slope_per_h is not None
            assert res.slope_per_h / MIB == pytest.approx(tr.slope_mib_per_h, rel=0.25)


def test_linear_leak_slope_and_interval_cover_the_truth() -> None:
    gen = np.random.default_rng(1)
    t = 1.78e9 + np.arange(7200.0)
    y = 200 * MIB + 30 * MIB * (t - t[0]) / 3600 + gen.normal(0, 2 * MIB, t.size)
    res = detect_leak("rss_bytes", t, y, THRESHOLD)
    assert res.status == "leak"
    assert res.ci_per_h is not None
    assert res.ci_per_h[0] <= 30 * MIB <= res.ci_per_h[1]
    assert res.warmup_s == 0


def test_warm_up_is_found_and_excluded() -> None:
    gen = np.random.default_rng(2)
    t = 1.78e9 + np.arange(7200.0)
    el = t - t[0]
    y = 100 * MIB + 250 * MIB * (1 - np.exp(-el / 400)) + gen.normal(0, 2 * MIB, t.size)
    res = detect_leak("rss_bytes", t, y, THRESHOLD)
    assert res.status == "no_leak", res.reason
    assert 600 < res.warmup_s <= 3600


def test_glaring_leak_in_a_short_run_is_a_leak() -> None:
    gen = np.random.default_rng(3)
    t = 1.78e9 + np.arange(0.0, 300.0)  # five minutes
    y = 100 * MIB + 600 * MIB * (t - t[0]) / 3600 + gen.normal(0, 2 * MIB, t.size)
    assert detect_leak("rss_bytes", t, y, THRESHOLD).status == "leak"


def test_too_little_data_is_inconclusive_with_a_reason() -> None:
    t = 1.78e9 + np.arange(4.0)
    res = detect_leak("rss_bytes", t, np.full(4, 100.0 * MIB), THRESHOLD)
    assert res.status == "inconclusive"
    assert "samples" in res.reason


def test_short_noisy_run_is_inconclusive_not_pass() -> None:
    gen = np.random.default_rng(4)
    t = 1.78e9 + np.arange(0.0, 600.0)  # ten minutes, 10 MiB noise
    y = 100 * MIB + gen.normal(0, 10 * MIB, t.size)
    res = detect_leak("rss_bytes", t, y, THRESHOLD)
    assert res.status == "inconclusive"
    assert "straddles" in res.reason


def test_constant_integer_series_is_no_leak() -> None:
    t = 1.78e9 + np.arange(0.0, 3600.0)
    res = detect_leak("num_threads", t, np.full(t.size, 12.0), 5.0)
    assert res.status == "no_leak"
    assert res.slope_per_h == 0


def test_fd_leak_is_found_in_an_integer_series() -> None:
    t = 1.78e9 + np.arange(0.0, 7200.0, 5.0)
    fds = 40 + np.floor((t - t[0]) / 60)  # one more fd a minute: 60/h
    assert detect_leak("num_fds", t, fds, 10.0).status == "leak"


def test_nan_values_are_ignored() -> None:
    t = 1.78e9 + np.arange(0.0, 3600.0)
    y = 100 * MIB + 50 * MIB * (t - t[0]) / 3600
    y[::3] = np.nan
    assert detect_leak("rss_bytes", t, y, THRESHOLD).status == "leak"


@pytest.mark.parametrize("seed", range(4))
def test_sawtooth_leak_is_found_within_an_hour_and_clean_sawtooth_is_not(seed: int) -> None:
    leaking = tracegen.sawtooth(random.Random(seed), 60, 20.0)
    clean = tracegen.sawtooth(random.Random(seed), 60, 0.0)
    assert _judge(leaking).status == "leak"
    assert _judge(clean).status == "no_leak"


def test_cycle_period_is_refined_so_removal_leaves_no_fake_trend() -> None:
    t = 1.78e9 + np.arange(0.0, 7200.0)
    gen = np.random.default_rng(12)
    saw = 300 * MIB + 100 * MIB * (((t - t[0]) % 138.6) / 138.6) + gen.normal(0, MIB, t.size)
    res = detect_leak("rss_bytes", t, saw, THRESHOLD)
    assert res.status == "no_leak", res.reason
    assert res.period_s == pytest.approx(138.6, abs=0.2)


def test_late_leak_is_judged_by_a_recent_window() -> None:
    gen = np.random.default_rng(13)
    t = 1.78e9 + np.arange(0.0, 8 * 3600.0, 5.0)
    el = t - t[0]
    y = (
        200 * MIB
        + 60 * MIB * np.clip(el - 0.8 * el[-1], 0, None) / 3600
        + gen.normal(0, 2 * MIB, t.size)
    )
    res = detect_leak("rss_bytes", t, y, THRESHOLD)
    assert res.status == "leak", res.reason
    assert res.window.startswith("recent")
    assert res.slope_per_h is not None and res.slope_per_h / MIB == pytest.approx(60, rel=0.3)


def test_a_single_gc_ramp_with_a_drop_is_not_sustained_growth() -> None:
    gen = np.random.default_rng(14)
    t = 1.78e9 + np.arange(0.0, 900.0)  # 15 minutes, one 600 s GC cycle and a half
    y = 300 * MIB + 80 * MIB * (((t - t[0]) % 600) / 600) + gen.normal(0, MIB, t.size)
    assert _judge(tracegen.Trace("x", t, y, False, 0.0)).status != "leak"


def test_restart_segment_still_warming_up_is_left_out() -> None:
    gen = np.random.default_rng(15)
    t = 1.78e9 + np.arange(0.0, 4 * 3600.0)
    el = t - t[0]
    restarts = (el >= 3.6 * 3600).astype(float)  # a restart 24 minutes before the end
    since = np.where(restarts > 0, el - 3.6 * 3600, el)
    y = 200 * MIB + 200 * MIB * (1 - np.exp(-since / 300)) + gen.normal(0, 2 * MIB, t.size)
    res = detect_leak("rss_bytes", t, y, THRESHOLD, restarts)
    assert res.status == "no_leak", res.reason
    assert len(res.warmups) == 2


@pytest.mark.parametrize(
    ("every_s", "rate", "status"),
    [(30.0, 200.0, "leak"), (30.0, 0.0, "no_leak"), (2.0, 100.0, "inconclusive")],
)
def test_crash_loop_restarts(every_s: float, rate: float, status: str) -> None:
    t = 1.78e9 + np.arange(0.0, 4 * 3600.0)
    el = t - t[0]
    gen = np.random.default_rng(16)
    y = 100 * MIB + rate * MIB * (el % every_s) / 3600 + gen.normal(0, 0.2 * MIB, t.size)
    res = detect_leak("rss_bytes", t, y, THRESHOLD, np.floor(el / every_s))
    assert res.status == status, res.reason
    if status == "inconclusive":
        assert "restarts are too frequent" in res.reason


@pytest.mark.parametrize("minutes", tracegen.STARTUP_MINUTES)
def test_startup_curve_on_a_short_run_is_never_a_leak(minutes: float) -> None:
    """Fast rise then a slow concave approach, still climbing at 1-4x the threshold at the end."""
    rng = random.Random(1000 + int(minutes))  # seeds apart from the ones the rule was tuned on
    for _ in range(12):
        tr = tracegen.startup_curve(rng, minutes)
        res = _judge(tr)
        assert res.status != "leak", (tr.shape, res.reason)


@pytest.mark.parametrize("cycles", [1.0, 1.4, 2.0, 2.6, 2.95])
def test_fewer_than_three_cycles_of_a_spiky_sawtooth_is_never_a_leak(cycles: float) -> None:
    rng = random.Random(2000 + int(cycles * 100))
    for _ in range(10):
        tr = tracegen.spiky_sawtooth(rng, cycles)
        res = _judge(tr)
        assert res.status == "inconclusive", (cycles, res.reason)


@pytest.mark.parametrize(("minutes", "rate"), [(5.0, 600.0), (10.0, 3600.0), (20.0, 120.0)])
def test_a_steady_leak_after_a_start_up_jump_is_still_a_leak(minutes: float, rate: float) -> None:
    """The deceleration rule does not hide a leak behind the start-up jump before it."""
    gen = np.random.default_rng(int(minutes))
    t = 1.78e9 + np.arange(0.0, minutes * 60)
    el = t - t[0]
    y = (150 * MIB + 30 * MIB * (1 - np.exp(-el / 8)) + rate * MIB * el / 3600
         + gen.normal(0, MIB, t.size))
    res = detect_leak("rss_bytes", t, y, THRESHOLD)
    assert res.status == "leak", res.reason


def test_a_decelerating_short_run_says_why() -> None:
    t = 1.78e9 + np.arange(0.0, 240.0)  # four minutes, like the bot's start-up
    el = t - t[0]
    y = 60 * MIB + 1.5 * MIB * np.log1p(el / 10) + np.random.default_rng(5).normal(0, 0.05 * MIB,
                                                                                      t.size)
    res = detect_leak("rss_bytes", t, y, THRESHOLD)
    assert res.status == "inconclusive"
    assert "slows down" in res.reason


def test_a_forced_warm_up_is_excluded() -> None:
    gen = np.random.default_rng(6)
    t = 1.78e9 + np.arange(0.0, 1800.0)
    y = 100 * MIB + gen.normal(0, MIB, t.size)
    free = detect_leak("rss_bytes", t, y, THRESHOLD)
    forced = detect_leak("rss_bytes", t, y, THRESHOLD, min_warmup_s=85.0)
    assert free.warmup_s < 85.0 <= forced.warmup_s < 120.0


def test_a_big_allocation_freed_seconds_later_gives_nothing_back() -> None:
    """A spike (30 MiB held for 20 s) is no drop: the leak under it is still a leak."""
    gen = np.random.default_rng(8)
    t = 1.78e9 + np.arange(0.0, 1800.0)
    el = t - t[0]
    y = 100 * MIB + 30 * MIB * el / 3600 + gen.normal(0, 0.3 * MIB, t.size)
    for at in (400, 1100, 1500):
        y[(el >= at) & (el < at + 20)] += 30 * MIB
    res = detect_leak("rss_bytes", t, y, THRESHOLD)
    assert res.status == "leak", res.reason
