"""Synthetic RSS traces with a known truth, in the shapes the dev set lacks.

Shapes beyond a plain linear leak under a GC sawtooth: staircase and late-starting leaks, one-off
steps, slow periodic cycles, irregular sampling with gaps, heavy-tailed spikes, 24 h traces at
coarser intervals, and restarts. Used by the detector tests and ``benchmarks/bench_analyze.py``
so the method is judged on shapes it was not tuned on. Leaks grow at >= 2x the threshold, clean
traces at <= 0.25x (the same margins as the dev set).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MIB = 1 << 20
THRESHOLD_MIB_PER_H = 10.0
T0 = 1_780_000_000.0


@dataclass
class Trace:
    shape: str
    ts: np.ndarray
    rss: np.ndarray
    leak: bool
    slope_mib_per_h: float
    restarts: np.ndarray | None = None


def _grid(rng: random.Random, hours: float, interval_s: float) -> np.ndarray:
    return T0 + np.arange(int(hours * 3600 / interval_s)) * interval_s


def _noise(rng: random.Random, n: int, sd_mib: float) -> np.ndarray:
    return np.random.default_rng(rng.randrange(1 << 30)).normal(0, sd_mib * MIB, n)


def _base(rng: random.Random) -> float:
    return rng.uniform(80, 400) * MIB


def staircase_leak(rng: random.Random, hours: float = 4.0, interval_s: float = 1.0) -> Trace:
    """Repeated one-off allocations: a step every few minutes, average rate >= 2x threshold."""
    ts = _grid(rng, hours, interval_s)
    every_s = rng.uniform(300, 1800)
    rate = rng.uniform(2 * THRESHOLD_MIB_PER_H, 80)
    step = rate * every_s / 3600 * MIB
    el = ts - ts[0]
    rss = _base(rng) + step * np.floor(el / every_s) + _noise(rng, ts.size, 2)
    return Trace("staircase_leak", ts, rss, True, rate)


def late_leak(rng: random.Random, hours: float = 6.0, interval_s: float = 1.0) -> Trace:
    """Flat, then a leak starting after 40-70 % of the run."""
    ts = _grid(rng, hours, interval_s)
    start_s = rng.uniform(0.4, 0.7) * hours * 3600
    rate = rng.uniform(2 * THRESHOLD_MIB_PER_H, 100)
    el = ts - ts[0]
    rss = _base(rng) + rate * MIB * np.clip(el - start_s, 0, None) / 3600 + _noise(rng, ts.size, 2)
    return Trace("late_leak", ts, rss, True, rate)


def one_off_step(rng: random.Random, hours: float = 4.0, interval_s: float = 1.0) -> Trace:
    """A single big allocation that then stays flat: not a leak."""
    ts = _grid(rng, hours, interval_s)
    at_s = rng.uniform(0.2, 0.9) * hours * 3600
    step = rng.uniform(30, 300) * MIB
    el = ts - ts[0]
    rss = _base(rng) + step * (el >= at_s) + _noise(rng, ts.size, 2)
    return Trace("one_off_step", ts, rss, False, 0.0)


def slow_cycle(rng: random.Random, hours: float = 8.0, interval_s: float = 5.0) -> Trace:
    """Load cycles of 20-120 min and 20-150 MiB amplitude, flat on average: not a leak."""
    ts = _grid(rng, hours, interval_s)
    period_s = rng.uniform(20, 120) * 60
    amp = rng.uniform(20, 150) * MIB
    el = ts - ts[0]
    phase = rng.uniform(0, 2 * math.pi)
    rss = _base(rng) + amp * np.sin(2 * math.pi * el / period_s + phase) + _noise(rng, ts.size, 2)
    return Trace("slow_cycle", ts, rss, False, 0.0)


def _gappy(rng: random.Random, hours: float, mean_interval_s: float) -> np.ndarray:
    gen = np.random.default_rng(rng.randrange(1 << 30))
    dts = gen.exponential(mean_interval_s, int(hours * 3600 / mean_interval_s * 1.2))
    el = np.cumsum(dts)
    el = el[el < hours * 3600]
    for _ in range(3):  # three outages of 5-30 min
        a = rng.uniform(0, hours * 3600)
        el = el[(el < a) | (el > a + rng.uniform(300, 1800))]
    return T0 + el


def irregular_leak(rng: random.Random, hours: float = 4.0) -> Trace:
    ts = _gappy(rng, hours, 7.0)
    rate = rng.uniform(2 * THRESHOLD_MIB_PER_H, 100)
    rss = _base(rng) + rate * MIB * (ts - ts[0]) / 3600 + _noise(rng, ts.size, 3)
    return Trace("irregular_leak", ts, rss, True, rate)


def irregular_flat(rng: random.Random, hours: float = 4.0) -> Trace:
    ts = _gappy(rng, hours, 7.0)
    rate = rng.uniform(0, 0.25 * THRESHOLD_MIB_PER_H)
    rss = _base(rng) + rate * MIB * (ts - ts[0]) / 3600 + _noise(rng, ts.size, 3)
    return Trace("irregular_flat", ts, rss, False, rate)


def _spikes(rng: random.Random, n: int) -> np.ndarray:
    gen = np.random.default_rng(rng.randrange(1 << 30))
    hit = gen.random(n) < 0.02
    return hit * (gen.pareto(1.5, n) + 1) * 20 * MIB


def spiky_flat(rng: random.Random, hours: float = 3.0, interval_s: float = 1.0) -> Trace:
    """Heavy-tailed (Pareto) upward spikes on a flat series: not a leak."""
    ts = _grid(rng, hours, interval_s)
    rss = _base(rng) + _spikes(rng, ts.size) + _noise(rng, ts.size, 2)
    return Trace("spiky_flat", ts, rss, False, 0.0)


def spiky_leak(rng: random.Random, hours: float = 3.0, interval_s: float = 1.0) -> Trace:
    ts = _grid(rng, hours, interval_s)
    rate = rng.uniform(2 * THRESHOLD_MIB_PER_H, 100)
    rss = (
        _base(rng)
        + rate * MIB * (ts - ts[0]) / 3600
        + _spikes(rng, ts.size)
        + _noise(rng, ts.size, 2)
    )
    return Trace("spiky_leak", ts, rss, True, rate)


def _bursts(rng: random.Random, el: np.ndarray) -> np.ndarray:
    """Transient allocations: bursts of 5-40 MiB held for 3-150 s (log-uniform), arriving every
    20-300 s on average (a Poisson process), freed again: buffers, a compaction."""
    gen = np.random.default_rng(rng.randrange(1 << 30))
    mean_gap_s = rng.uniform(20, 300)
    out = np.zeros(el.size)
    at = gen.exponential(mean_gap_s)
    while at < el[-1]:
        held_s = math.exp(gen.uniform(math.log(3), math.log(150)))
        out[(el >= at) & (el < at + held_s)] += gen.uniform(5, 40) * MIB
        at += held_s + gen.exponential(mean_gap_s)
    return out


def bursty_flat(rng: random.Random, hours: float = 1.0, interval_s: float = 1.0) -> Trace:
    """Bursts of allocations freed within seconds to minutes on a flat floor: not a leak."""
    ts = _grid(rng, hours, interval_s)
    el = ts - ts[0]
    rss = _base(rng) + _bursts(rng, el) + _noise(rng, ts.size, rng.uniform(0.2, 1.0))
    return Trace("bursty_flat", ts, rss, False, 0.0)


def bursty_leak(rng: random.Random, hours: float = 1.0, interval_s: float = 1.0) -> Trace:
    """The same bursts on a floor that leaks."""
    ts = _grid(rng, hours, interval_s)
    el = ts - ts[0]
    rate = rng.uniform(2 * THRESHOLD_MIB_PER_H, 80)
    rss = (_base(rng) + rate * MIB * el / 3600 + _bursts(rng, el)
           + _noise(rng, ts.size, rng.uniform(0.2, 1.0)))
    return Trace("bursty_leak", ts, rss, True, rate)


def day_coarse_leak(rng: random.Random) -> Trace:
    """24 h at a 30-120 s interval, slow leak under a daily-ish cycle and GC noise."""
    ts = _grid(rng, 24.0, rng.choice([30.0, 60.0, 120.0]))
    rate = rng.uniform(2 * THRESHOLD_MIB_PER_H, 40)
    el = ts - ts[0]
    cyc = rng.uniform(10, 60) * MIB * np.sin(2 * math.pi * el / rng.uniform(2, 6) / 3600)
    rss = _base(rng) + rate * MIB * el / 3600 + cyc + _noise(rng, ts.size, 4)
    return Trace("day_coarse_leak", ts, rss, True, rate)


def day_coarse_flat(rng: random.Random) -> Trace:
    ts = _grid(rng, 24.0, rng.choice([30.0, 60.0, 120.0]))
    el = ts - ts[0]
    rate = rng.uniform(0, 0.25 * THRESHOLD_MIB_PER_H)
    cyc = rng.uniform(10, 60) * MIB * np.sin(2 * math.pi * el / rng.uniform(2, 6) / 3600)
    warm = rng.uniform(50, 200) * MIB * (1 - np.exp(-el / rng.uniform(600, 3600)))
    rss = _base(rng) + rate * MIB * el / 3600 + cyc + warm + _noise(rng, ts.size, 4)
    return Trace("day_coarse_flat", ts, rss, False, rate)


def restart_leak(rng: random.Random, hours: float = 4.0, interval_s: float = 1.0) -> Trace:
    """A leaking process that restarts (memory drops back) every 40-90 minutes."""
    ts = _grid(rng, hours, interval_s)
    rate = rng.uniform(2 * THRESHOLD_MIB_PER_H, 100)
    every_s = rng.uniform(40, 90) * 60
    el = ts - ts[0]
    restarts = np.floor(el / every_s)
    rss = _base(rng) + rate * MIB * (el % every_s) / 3600 + _noise(rng, ts.size, 2)
    return Trace("restart_leak", ts, rss, True, rate, restarts)


def restart_flat(rng: random.Random, hours: float = 4.0, interval_s: float = 1.0) -> Trace:
    """Restarts with a warm-up each time, flat in between: not a leak."""
    ts = _grid(rng, hours, interval_s)
    every_s = rng.uniform(40, 90) * 60
    el = ts - ts[0]
    since = el % every_s
    gain = rng.uniform(50, 200) * MIB
    rss = _base(rng) + gain * (1 - np.exp(-since / rng.uniform(60, 300))) + _noise(rng, ts.size, 2)
    return Trace("restart_flat", ts, rss, False, 0.0, np.floor(el / every_s))


def warmup_then_step(rng: random.Random, hours: float = 3.0, interval_s: float = 1.0) -> Trace:
    """Caches fill, later one big allocation, then flat: not a leak."""
    ts = _grid(rng, hours, interval_s)
    el = ts - ts[0]
    warm = rng.uniform(80, 200) * MIB * (1 - np.exp(-el / rng.uniform(100, 400)))
    step = rng.uniform(30, 200) * MIB * (el > rng.uniform(0.3, 0.9) * hours * 3600)
    return Trace(
        "warmup_then_step", ts, _base(rng) + warm + step + _noise(rng, ts.size, 2), False, 0.0
    )


def step_down(rng: random.Random, hours: float = 2.0, interval_s: float = 1.0) -> Trace:
    """A cache flushed once: memory drops and stays: not a leak."""
    ts = _grid(rng, hours, interval_s)
    el = ts - ts[0]
    drop = rng.uniform(30, 200) * MIB * (el > rng.uniform(0.1, 0.9) * hours * 3600)
    return Trace(
        "step_down", ts, _base(rng) + 250 * MIB - drop + _noise(rng, ts.size, 2), False, 0.0
    )


def cycle_leak(rng: random.Random) -> Trace:
    """A leak under load cycles of 20-120 minutes (at least 3 in the run), 4-24 h at 5-30 s.

    With fewer than three cycles the detector may say inconclusive (documented limit).
    """
    hours = rng.choice([4.0, 8.0, 24.0])
    ts = _grid(rng, hours, rng.choice([5.0, 30.0]))
    el = ts - ts[0]
    rate = rng.uniform(2 * THRESHOLD_MIB_PER_H, 60)
    period = rng.uniform(1200, min(7200, hours * 3600 / 3))
    cyc = rng.uniform(20, 100) * MIB * np.sin(2 * math.pi * el / period)
    return Trace(
        "cycle_leak",
        ts,
        _base(rng) + cyc + rate * MIB * el / 3600 + _noise(rng, ts.size, 3),
        True,
        rate,
    )


def sawtooth_warmup_leak(rng: random.Random, hours: float = 2.0) -> Trace:
    """Warm-up, GC sawtooth and a leak at once, at 1 Hz."""
    ts = _grid(rng, hours, 1.0)
    el = ts - ts[0]
    rate = rng.uniform(2 * THRESHOLD_MIB_PER_H, 80)
    period = rng.uniform(120, 600)
    saw = rng.uniform(20, 100) * MIB * (el % period) / period
    warm = 200 * MIB * (1 - np.exp(-el / rng.uniform(100, 400)))
    return Trace(
        "sawtooth_warmup_leak",
        ts,
        _base(rng) + saw + warm + rate * MIB * el / 3600 + _noise(rng, ts.size, 1.5),
        True,
        rate,
    )


def two_sided_spikes(rng: random.Random, hours: float = 3.0) -> Trace:
    """Heavy-tailed spikes up and down (sampling glitches), leaking or not."""
    ts = _grid(rng, hours, 1.0)
    gen = np.random.default_rng(rng.randrange(1 << 30))
    n = ts.size
    spikes = (gen.random(n) < 0.03) * (gen.pareto(1.2, n) + 1) * 30 * MIB * gen.choice([-1, 1], n)
    leak = rng.random() < 0.5
    rate = rng.uniform(2 * THRESHOLD_MIB_PER_H, 80) if leak else rng.uniform(0, 2.5)
    rss = _base(rng) + 200 * MIB + rate * MIB * (ts - ts[0]) / 3600 + spikes + _noise(rng, n, 2)
    return Trace("two_sided_spikes", ts, np.clip(rss, MIB, None), leak, rate)


def sawtooth(rng: random.Random, minutes: float, slope_mib_per_h: float) -> Trace:
    """The dev set's GC sawtooth at 1 Hz (for time-to-detect curves)."""
    ts = _grid(rng, minutes / 60, 1.0)
    el = ts - ts[0]
    period = rng.uniform(120, 600)
    amp = rng.uniform(20, 100) * MIB
    rss = (
        _base(rng)
        + amp * ((el % period) / period)
        + slope_mib_per_h * MIB * el / 3600
        + _noise(rng, ts.size, 1.5)
    )
    return Trace("sawtooth", ts, rss, slope_mib_per_h > 0, slope_mib_per_h)


SHAPES: list[Callable[[random.Random], Trace]] = [
    staircase_leak,
    late_leak,
    one_off_step,
    slow_cycle,
    irregular_leak,
    irregular_flat,
    spiky_flat,
    spiky_leak,
    day_coarse_leak,
    day_coarse_flat,
    restart_leak,
    restart_flat,
    warmup_then_step,
    step_down,
    cycle_leak,
    sawtooth_warmup_leak,
    two_sided_spikes,
    bursty_flat,
    bursty_leak,
]


def startup_curve(rng: random.Random, minutes: float, interval_s: float = 1.0) -> Trace:
    """Start-up or cache warm-up on a short run: a fast rise, then a slow concave approach.

    The slow part is still climbing at the end of the run, faster than the threshold over the
    later half in most draws, but it decelerates throughout (an exponential approach with a
    time constant of 0.25-1 run length, or a logarithmic one): not a leak.
    """
    ts = _grid(rng, minutes / 60, interval_s)
    el = ts - ts[0]
    span_s = minutes * 60
    fast = rng.uniform(5, 60) * MIB * (1 - np.exp(-el / rng.uniform(3, 30)))
    if rng.random() < 0.5:
        tau = rng.uniform(0.25, 1.0) * span_s
        shape = 1 - np.exp(-el / tau)
        end_slope = math.exp(-span_s / tau) / tau  # d shape / dt at the end, per second
    else:
        tau = rng.uniform(0.02, 0.2) * span_s
        shape = np.log1p(el / tau)
        end_slope = 1 / (tau + span_s)
    # Amplitude: the curve still climbs at 1-4x the threshold at the end of the run.
    amp = rng.uniform(1, 4) * THRESHOLD_MIB_PER_H * MIB / 3600 / end_slope
    rss = _base(rng) + fast + amp * shape + _noise(rng, ts.size, rng.uniform(0.05, 1.0))
    return Trace(f"startup_curve_{minutes:g}min", ts, rss, False, 0.0)


def spiky_sawtooth(rng: random.Random, cycles: float, period_s: float | None = None) -> Trace:
    """A Prometheus-like head-block sawtooth: a ramp, a compaction spike, a drop, repeated.

    ``cycles`` of it (fewer than three in the tests: the cycle cannot be removed) at 1 Hz,
    flat on average: not a leak. The window starts at a phase that puts at least one
    compaction inside it (a window that is one whole ramp, its drops at both edges, looks like
    a glaring leak to any detector).
    """
    period = period_s if period_s is not None else rng.uniform(300, 900)
    ts = _grid(rng, cycles * period / 3600, 1.0)
    el = ts - ts[0] + rng.uniform(0.05, 0.9) * period
    gen = np.random.default_rng(rng.randrange(1 << 30))
    phase = (el % period) / period
    ramp = rng.uniform(20, 120) * MIB * phase
    spike = (phase > 0.97) * rng.uniform(20, 150) * MIB * gen.random(ts.size)
    rss = _base(rng) + ramp + spike + _noise(rng, ts.size, rng.uniform(0.5, 3))
    return Trace("spiky_sawtooth", ts, rss, False, 0.0)


STARTUP_MINUTES = (3.0, 5.0, 10.0, 20.0)
