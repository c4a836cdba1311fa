"""The soak planner against the detector's measured time to detect (``soakctl plan``)."""

from __future__ import annotations

import numpy as np
import pytest

from soakctl.analyze.leak import detect_leak, min_detectable_per_h
from soakctl.analyze.plan import plan

MIB = 1 << 20
THRESHOLD = 10 * MIB


def sawtooth(seconds: int, seed: int, rate_mib_per_h: float) -> tuple[np.ndarray, np.ndarray]:
    """A 10-minute, 100 MiB GC sawtooth at 1 Hz with 1.5 MiB noise, random phase."""
    gen = np.random.default_rng(seed)
    t = 1.78e9 + np.arange(float(seconds))
    el = t - t[0] + gen.uniform(0, 600)
    y = (150 * MIB + 100 * MIB * ((el % 600) / 600) + rate_mib_per_h * MIB * (t - t[0]) / 3600
         + gen.normal(0, 1.5 * MIB, t.size))
    return t, y


def quiet(seconds: int, seed: int, rate_mib_per_h: float) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.default_rng(seed)
    t = 1.78e9 + np.arange(float(seconds))
    return t, 150 * MIB + rate_mib_per_h * MIB * (t - t[0]) / 3600 + gen.normal(0, 1.5 * MIB,
                                                                                t.size)


def measured_time_to_detect(family, minutes: list[float], draws: int = 20) -> float:  # type: ignore[no-untyped-def]
    """The shortest tried length at which fresh traces with a 20 MiB/h leak are caught >= 95 %."""
    for m in minutes:
        hits = sum(detect_leak("rss_bytes", *family(int(m * 60), 500 + s, 20.0),
                               THRESHOLD).detected for s in range(draws))
        if hits >= 0.95 * draws:
            return m * 60
    raise AssertionError("never detected")


def test_plan_matches_the_measured_time_to_detect_under_a_sawtooth() -> None:
    t, y = sawtooth(3600, 1, 0.0)  # the run we learn from: one clean hour
    result = plan(t, y, 20 * MIB, threshold_per_h=THRESHOLD)
    measured = measured_time_to_detect(sawtooth, [20, 25, 30, 33, 36, 40, 45, 50, 60, 75, 90])
    assert result.min_duration_s is not None
    assert 0.5 * measured <= result.min_duration_s <= 1.5 * measured, (result.curve, measured)
    assert result.period_s == pytest.approx(600, rel=0.02)
    assert result.false_alarm_rate <= 0.01


def test_a_quiet_run_needs_a_shorter_soak_than_a_sawtooth() -> None:
    calm = plan(*quiet(3600, 2, 0.0), 20 * MIB, threshold_per_h=THRESHOLD)
    saw = plan(*sawtooth(3600, 2, 0.0), 20 * MIB, threshold_per_h=THRESHOLD)
    assert calm.min_duration_s is not None and saw.min_duration_s is not None
    assert calm.min_duration_s < saw.min_duration_s
    measured = measured_time_to_detect(quiet, [5, 7, 9, 11, 13, 15, 18, 21, 25, 30])
    assert 0.5 * measured <= calm.min_duration_s <= 1.5 * measured, (calm.curve, measured)


def test_a_leak_under_the_threshold_is_never_caught() -> None:
    result = plan(*quiet(1800, 3, 0.0), 5 * MIB, threshold_per_h=THRESHOLD)
    assert result.min_duration_s is None


def test_min_detectable_grows_with_noise_and_is_above_the_threshold() -> None:
    calm = detect_leak("rss_bytes", *quiet(3600, 4, 0.0), THRESHOLD)
    gen = np.random.default_rng(5)
    t = 1.78e9 + np.arange(3600.0)
    noisy = detect_leak("rss_bytes", t, 150 * MIB + gen.normal(0, 20 * MIB, t.size), THRESHOLD)
    a, b = min_detectable_per_h(calm), min_detectable_per_h(noisy)
    assert a is not None and b is not None
    assert THRESHOLD < a < b
