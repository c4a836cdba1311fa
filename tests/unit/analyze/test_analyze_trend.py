"""Robust statistics: bucket medians, cycle period, and Theil–Sen against scipy's reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from soakctl.analyze.trend import bucket_medians, cycle_period_s, theil_sen


def test_theil_sen_matches_scipy_on_one_segment() -> None:
    gen = np.random.default_rng(3)
    t = np.sort(gen.uniform(0, 1000, 80))
    y = 0.5 * t + gen.standard_t(2, t.size) * 20  # heavy-tailed noise
    ours = theil_sen(t, y, autocorrelation=False)
    ref = stats.theilslopes(y, t, alpha=0.95)
    assert ours.slope == pytest.approx(ref.slope)
    assert ours.lo == pytest.approx(ref.low_slope)
    assert ours.hi == pytest.approx(ref.high_slope)


def test_pooled_segments_ignore_the_drop_between_them() -> None:
    t = np.arange(40.0)
    y = np.where(t < 20, 2.0 * t, 2.0 * (t - 20))  # a restart halfway: back to zero
    seg = (t >= 20).astype(np.int64)
    fit = theil_sen(t, y, seg)
    assert fit.slope == pytest.approx(2.0)
    assert theil_sen(t, y).slope < 2.0  # without segments the drop drags the slope down


def test_autocorrelation_widens_the_interval() -> None:
    gen = np.random.default_rng(5)
    t = np.arange(200.0)
    walk = np.cumsum(gen.normal(0, 1, t.size))  # a random walk: strongly autocorrelated
    plain = theil_sen(t, walk, autocorrelation=False)
    widened = theil_sen(t, walk)
    assert widened.inflation > 2
    assert widened.hi - widened.lo > 1.3 * (plain.hi - plain.lo)


def test_bucket_medians_match_a_naive_loop() -> None:
    gen = np.random.default_rng(7)
    t = np.sort(gen.uniform(0, 100, 500))
    y = gen.normal(0, 1, t.size)
    bt, bm, counts = bucket_medians(t, y, 10.0, 0.0)
    for k in range(10):
        m = (t >= 10 * k) & (t < 10 * (k + 1))
        assert bm[k] == pytest.approx(np.median(y[m]))
        assert bt[k] == pytest.approx(t[m].mean())
        assert counts[k] == m.sum()


def test_bucket_medians_skip_gaps() -> None:
    t = np.r_[np.arange(0.0, 10.0), np.arange(50.0, 60.0)]
    bt, _bm, _ = bucket_medians(t, t, 5.0, 0.0)
    assert bt.size == 4


def test_cycle_period_is_found_for_a_sawtooth_and_not_for_noise() -> None:
    gen = np.random.default_rng(11)
    t = np.arange(0.0, 7200.0)
    saw = 50 * ((t % 300) / 300) + gen.normal(0, 1, t.size)
    period = cycle_period_s(t, saw)
    assert period is not None
    assert period == pytest.approx(300, rel=0.05)
    assert cycle_period_s(t, gen.normal(0, 1, t.size)) is None
    assert cycle_period_s(t, 0.01 * t + gen.normal(0, 1, t.size)) is None
