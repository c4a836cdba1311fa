"""How long must a soak run to catch a leak of a given rate on *this* process?

:func:`plan` learns a run's memory behaviour — its warm-up (kept as recorded), its cycle (the
period the detector finds) and its noise (the residuals after the run's own trend is removed) —
and simulates the leak detector on synthetic runs of increasing length built from it:

* the run's warm-up, then its steady residuals block-resampled (moving blocks of a quarter of
  the simulated length, at least one cycle, whole cycles phase-aligned when there is a cycle,
  so autocorrelation, drift and the sawtooth survive resampling);
* plus a linear leak of the asked rate (power) or none (false alarms).

The answer is the shortest length, on a grid 1.2× apart, at which the detector says ``leak``
in at least ``power`` of the leaking runs and in no clean run (≤ 1 % false alarms is the
detector's design; a clean alarm at a length rules it out). Series are reduced to at most
``POINTS`` bucket medians per simulated run (the detector buckets to 200 anyway), so a 24 h
run at 1 Hz plans in seconds.

:func:`min_detectable_per_h` is the cheap closed form the report uses: the smallest rate the
run's own steady window would have caught with 95 % power, from its confidence interval (the
Theil–Sen slope is equivariant: a leak of rate R shifts the interval by R).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from soakctl.analyze.leak import LeakResult, detect_leak, min_detectable_per_h

__all__ = ["PlanResult", "min_detectable_per_h", "plan"]
from soakctl.analyze.trend import bucket_medians

MIB = 1 << 20
POINTS = 1500  # points per simulated run (the detector uses 200 buckets)
DRAWS = 30  # leaking runs per length; clean runs per passing length
MIN_DURATION_S = 180.0
MAX_DURATION_S = 30 * 86400.0
GRID_FACTOR = 1.2


@dataclass
class PlanResult:
    """The planner's answer; rates in series units per hour."""

    rate_per_h: float
    threshold_per_h: float
    power: float  # asked
    min_duration_s: float | None  # None: not reached by MAX_DURATION_S
    achieved_power: float = 0.0
    false_alarm_rate: float = 0.0
    warmup_s: float = 0.0
    period_s: float | None = None
    noise_sd: float = 0.0  # robust sd of the steady residuals
    run_duration_s: float = 0.0
    curve: list[tuple[float, float]] = field(default_factory=list)  # (length, power) tried

    def to_dict(self, scale: float = 1 / MIB) -> dict[str, object]:
        return {
            "min_duration_s": None if self.min_duration_s is None
            else round(self.min_duration_s, 1),
            "power": round(self.achieved_power, 4), "false_alarm_rate":
            round(self.false_alarm_rate, 4), "requested_power": self.power,
            "leak_mib_per_hour": round(self.rate_per_h * scale, 6),
            "threshold_mib_per_hour": round(self.threshold_per_h * scale, 6),
            "warmup_s": round(self.warmup_s, 1),
            "period_s": None if self.period_s is None else round(self.period_s, 1),
            "noise_sd_mib": round(self.noise_sd * scale, 4),
            "run_duration_s": round(self.run_duration_s, 1),
            "curve": [{"duration_s": round(d, 1), "power": round(p, 4)} for d, p in self.curve],
        }


class _Model:
    """The run's warm-up and steady residuals, with cached reductions per bucket width."""

    def __init__(self, t: np.ndarray, y: np.ndarray, fit: LeakResult) -> None:
        self.dt = float(np.median(np.diff(t))) if t.size > 1 else 1.0
        slope_s = (fit.slope_per_h or 0.0) / 3600.0
        resid = y - slope_s * (t - t[0])
        warm_end = float(t[0]) + fit.warmup_s
        steady = t >= warm_end
        if steady.sum() < 16:
            steady = np.ones(t.size, dtype=bool)
            warm_end = float(t[0])
        level = float(np.median(resid[steady]))
        self.t, self.r = t - t[0], resid - level
        self.warm_s = warm_end - float(t[0])
        self.steady = steady
        self.period_s = fit.period_s
        r = self.r[steady]
        self.noise_sd = float(np.median(np.abs(r - np.median(r)))) * 1.4826
        self._cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def reduced(self, width_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Warm-up and steady residuals as bucket medians ``width_s`` wide."""
        if width_s not in self._cache:
            w = ~self.steady
            warm = (bucket_medians(self.t[w], self.r[w], width_s, 0.0)[1] if w.any()
                    else np.empty(0))
            st = self.t[self.steady]
            body = bucket_medians(st, self.r[self.steady], width_s, float(st[0]))[1]
            self._cache[width_s] = (warm, body)
        return self._cache[width_s]

    def synthesize(self, duration_s: float, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
        width = max(self.dt, duration_s / POINTS)
        width = self.dt * 2 ** math.ceil(math.log2(width / self.dt)) if width > self.dt else width
        warm, body = self.reduced(width)
        n = max(int(duration_s / width), 8)
        out = np.empty(n)
        k = min(warm.size, n)
        out[:k] = warm[:k]
        block = max(duration_s / 4, 8 * width)
        cycle = (self.period_s / width) if self.period_s else None
        if cycle is not None and body.size < 2 * cycle + 2:
            cycle = None  # under two cycles of steady data: resample as if there were none
        if cycle is not None:
            in_body = int(body.size // cycle)
            per_block = max(1, min(round(block / (cycle * width)), in_body - 1))
            blen = round(per_block * cycle)
        else:
            blen = min(max(round(block / width), 1), body.size)
        pos, phase = k, 0.0
        while pos < n:
            take = min(blen, n - pos)
            if cycle is not None:
                # Whole cycles, starting at the phase where the previous block left off.
                choices = max(int((body.size - take - phase) // cycle), 0) + 1
                start = round(phase + cycle * int(rng.integers(0, choices)))
                start = max(min(start, body.size - take), 0)
                phase = (start + take) % cycle
            else:
                start = int(rng.integers(0, body.size - take + 1))
            out[pos:pos + take] = body[start:start + take]
            pos += take
        return np.arange(n) * width, out


def _rate_detected(model: _Model, duration_s: float, rate_s: float, threshold_per_h: float,
                   rng: np.random.Generator, draws: int, stop_after_misses: int | None
                   ) -> tuple[int, int]:
    """(detections, runs simulated) at this length; stops once the misses rule it out."""
    hits = misses = 0
    for _ in range(draws):
        t, y = model.synthesize(duration_s, rng)
        res = detect_leak("rss_bytes", t, y + rate_s * t, threshold_per_h)
        if res.detected:
            hits += 1
        else:
            misses += 1
            if stop_after_misses is not None and misses > stop_after_misses:
                break
    return hits, hits + misses


def plan(t: np.ndarray, y: np.ndarray, rate_per_h: float, *, power: float = 0.95,
         threshold_per_h: float = 10.0 * MIB, seed: int = 0, draws: int = DRAWS) -> PlanResult:
    """The shortest soak that catches ``rate_per_h`` with ``power`` (see the module doc)."""
    ok = np.isfinite(y)
    t, y = t[ok], y[ok]
    result = PlanResult(rate_per_h=rate_per_h, threshold_per_h=threshold_per_h, power=power,
                        min_duration_s=None)
    if t.size < 16:
        return result
    fit = detect_leak("rss_bytes", t, y, threshold_per_h)
    model = _Model(t, y, fit)
    result.warmup_s, result.period_s = model.warm_s, model.period_s
    result.noise_sd, result.run_duration_s = model.noise_sd, float(t[-1] - t[0])
    if rate_per_h <= threshold_per_h:
        return result  # the detector never calls growth under its threshold a leak
    grid = [MIN_DURATION_S * GRID_FACTOR ** i
            for i in range(int(math.log(MAX_DURATION_S / MIN_DURATION_S, GRID_FACTOR)) + 2)]
    allowed = math.floor((1 - power) * draws)
    tried: dict[int, tuple[float, float] | None] = {}

    def passes(i: int) -> bool:
        if i not in tried:
            rng = np.random.default_rng(seed + i)
            hits, n = _rate_detected(model, grid[i], rate_per_h / 3600, threshold_per_h, rng,
                                     draws, allowed)
            result.curve.append((grid[i], hits / max(n, 1)))
            tried[i] = None
            if n - hits <= allowed:
                alarms, m = _rate_detected(model, grid[i], 0.0, threshold_per_h, rng, draws,
                                           None)
                if alarms == 0:
                    tried[i] = (hits / n, alarms / m)
        return tried[i] is not None

    lo, hi, step = -1, 0, 1
    while not passes(hi):  # gallop up from the shortest length (misses make failures cheap)
        if hi == len(grid) - 1:
            result.curve.sort()
            return result
        lo, hi, step = hi, min(hi + step, len(grid) - 1), step * 2
    while hi - lo > 1:  # smallest passing grid point, assuming power grows with length
        mid = (lo + hi) // 2
        if passes(mid):
            hi = mid
        else:
            lo = mid
    found = tried[hi]
    assert found is not None
    result.min_duration_s = grid[hi]
    result.achieved_power, result.false_alarm_rate = found
    result.curve.sort()
    return result
