"""Leak detection on one series: is its sustained growth rate above a threshold?

The decision rule, in one sentence (``RULE``, printed in the report): *a series leaks when we
are confident that its sustained growth rate — the Theil–Sen slope of per-bucket medians after
warm-up and cycle removal, measured within restart segments — exceeds the threshold, over the
whole steady window (95 %) or over a recent part of it that outgrows the earlier run and is
still growing at its end (99 %, at least 15 minutes); it does not leak when we are 95 %
confident the steady rate is below the threshold; otherwise the data cannot tell
(inconclusive).*

Steps, each robust to one failure mode of the least-squares slope:

1. **Cycles**: a GC sawtooth or load cycle found in the autocorrelation (at least 3 cycles) is
   refined by phase dispersion and its median phase profile subtracted.
2. **Buckets**: samples become per-bucket medians (spikes vanish); a bucket is at least 3
   samples and 1/200 of the run.
3. **Restart segments**: the cumulative ``restarts`` counter splits the run; slopes are pooled
   from pairs inside a segment, so a restart's drop back to a low RSS is not "negative growth".
4. **Warm-up**: per segment, a robust line is fitted to the last half; the leading buckets up to
   the last one lying more than 4 robust sigmas off that line, all on one side of it (at most
   half the segment) are warm-up (cache fill, or the flat part before a late leak) and excluded.
5. **One-off level shift**: when the window holds exactly one abrupt upward jump (a single
   allocation that then stays flat), the window is split there like a restart; two or more
   jumps are a staircase and count as growth. Growth that a single drop gives back by half is
   not sustained (a cycle too long to remove).
6. **Trend test**: Sen's CI, widened for the residuals' autocorrelation (see ``trend``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from soakctl.analyze.trend import (
    SlopeFit,
    bucket_medians,
    cycle_period_s,
    remove_cycle,
    theil_sen,
)

MIN_BUCKETS = 6
PREBUCKET_ABOVE = 50_000  # longer series are first reduced to 20,000 fine-bucket medians
PREBUCKET_POINTS = 20_000
NO_LEAK_MIN_S = 600.0  # a shorter steady window can show a leak, not rule one out
RECENT_MIN_S = 900.0  # a recent window must span 15 minutes to be judged alone
RECENT_CONFIDENCE = 0.99  # five recent windows are five more chances: each must clear 99 %
RECENT_WINDOWS = ((1.0, "steady"), (0.5, "recent half"), (1 / 3, "recent third"),
                  (0.25, "recent quarter"), (1 / 6, "recent sixth"), (0.125, "recent eighth"))
TARGET_BUCKETS = 200
WARMUP_SIGMAS = 4.0
SHIFT_SIGMAS = 6.0
METHOD = ("Theil–Sen slope of bucket medians after warm-up and cycle removal, pooled within "
          "restart segments; CI widened for autocorrelation; recent windows at 99 %")
RULE = ("A series leaks when we are confident that its sustained growth rate — the Theil–Sen "
        "slope of per-bucket medians after warm-up and cycle removal, measured within restart "
        "segments — exceeds the threshold, over the whole steady window (95 %) or over a recent "
        "part of it that outgrows the earlier run and is still growing at its end (99 %, at "
        "least 15 minutes); it does not leak when we are 95 % confident the steady rate is "
        "below the threshold; otherwise the data cannot tell (inconclusive).")


@dataclass
class LeakResult:
    """Outcome for one series; slopes are in series units per hour."""

    series: str
    status: str  # leak | no_leak | inconclusive
    threshold_per_h: float
    slope_per_h: float | None = None
    ci_per_h: tuple[float, float] | None = None
    warmup_s: float = 0.0
    reason: str = ""
    window: str = "steady"
    bucket_s: float = 0.0
    period_s: float | None = None
    level_shifts: int = 0
    fit: dict[str, Any] = field(default_factory=dict)  # for drawing: t0, t1, line, band
    warmups: list[tuple[float, float]] = field(default_factory=list)  # excluded (ts, ts) spans
    scale: float = 1.0  # series units -> display units (bytes -> MiB)
    unit: str = ""  # display unit, e.g. "MiB"

    @property
    def detected(self) -> bool:
        return self.status == "leak"

    def to_dict(self, scale: float = 1.0, unit: str = "per_hour") -> dict[str, Any]:
        """JSON form; ``scale`` converts series units (bytes -> MiB with 1/2**20)."""
        def s(v: float | None) -> float | None:
            return None if v is None else round(float(v) * scale, 6)

        ci = [s(self.ci_per_h[0]), s(self.ci_per_h[1])] if self.ci_per_h else [None, None]
        return {
            "series": self.series, "status": self.status, "detected": self.detected,
            f"slope_{unit}": s(self.slope_per_h), f"ci_{unit}": ci,
            f"threshold_{unit}": s(self.threshold_per_h), "method": METHOD,
            "warmup_s": round(float(self.warmup_s), 3), "reason": self.reason,
            "window": self.window, "bucket_s": round(float(self.bucket_s), 3),
            "period_s": None if self.period_s is None else round(float(self.period_s), 3),
            "level_shifts": self.level_shifts,
        }


@dataclass
class _Buckets:
    t: np.ndarray
    y: np.ndarray
    seg: np.ndarray


def _robust_sigma(x: np.ndarray) -> float:
    return float(np.median(np.abs(x - np.median(x)))) * 1.4826 if x.size else 0.0


def _warmup_index(bt: np.ndarray, bm: np.ndarray, floor: float) -> int:
    """First steady bucket: after the last early bucket off the late half's robust line.

    Warm-up is smooth growth from the start, on one side of the line (below: caches filling;
    above: flat before a late leak); it cannot run past a level shift that follows a flat
    stretch (that is a step, judged by the step rule, not warm-up).
    """
    n = bm.size
    if n < 8:
        return 0
    half = n // 2
    fit = theil_sen(bt[half:], bm[half:], autocorrelation=False)
    resid = bm - (fit.intercepts[0] + fit.slope * bt)
    sigma = max(_robust_sigma(resid[half:]), floor)
    out = np.flatnonzero(np.abs(resid[:half]) > WARMUP_SIGMAS * sigma)
    start = int(out[-1]) + 1 if out.size else 0
    signs = np.sign(resid[:start])
    if start and abs(float(signs.mean())) < 0.8:
        return 0  # off the line on both sides: a slow cycle or noise, not a warm-up
    for run_start, at, size in _shift_events(bm, floor):
        if run_start > 0 and at < start and size > 0:
            return max(at - 1, 0)
    return start


def _shift_events(y: np.ndarray, floor: float, k: int = 3) -> list[tuple[int, int, float]]:
    """Persistent level shifts in ``y``: (first flagged index, bucket where the new level
    starts, size).

    The level is the median of ``k`` buckets; a shift is a change of level between adjacent
    ``k``-bucket windows that stands out from the typical change (a steady trend) by more than
    ``SHIFT_SIGMAS`` robust sigmas of the bucket-to-bucket noise and is over within ``2k``
    buckets. A one-bucket spike is not one, nor is a ramp.
    """
    if y.size < 2 * k + 1:
        return []
    sigma = max(_robust_sigma(np.diff(y)) / np.sqrt(2.0), floor)
    med = np.median(np.lib.stride_tricks.sliding_window_view(y, k), axis=1)
    jump = med[k:] - med[:-k]  # jump[i]: level of buckets i+k.. vs buckets i..i+k-1
    jump = jump - np.median(jump)
    flags = np.diff(np.r_[0, (np.abs(jump) > SHIFT_SIGMAS * sigma).astype(np.int8), 0])
    starts, ends = np.flatnonzero(flags == 1), np.flatnonzero(flags == -1)
    events = []
    for a, e in zip(starts, ends, strict=True):
        if e - a > 2 * k:
            continue  # the level kept changing for many buckets: a ramp, not a step
        at = int(a + np.argmax(np.abs(jump[a:e])))
        events.append((int(a), at + k, float(jump[at])))
    return events


def _split_one_shift(b: _Buckets, floor: float) -> tuple[np.ndarray, int]:
    """Split at a single upward level shift; return the labels and the number of up-shifts.

    Only upward shifts are one-off allocations; a single drop (a GC, a cache flush) is left in
    place: splitting there would turn a sawtooth into rising segments.
    """
    seg = b.seg.copy()
    events: list[int] = []
    for s in np.unique(b.seg):
        idx = np.flatnonzero(b.seg == s)
        events += [int(idx[at]) for _a, at, size in _shift_events(b.y[idx], floor) if size > 0]
    if len(events) == 1:
        seg[events[0]:][seg[events[0]:] == seg[events[0]]] = seg.max() + 1
    return seg, len(events)


def _fit_window(b: _Buckets, floor: float, confidence: float = 0.95
                ) -> tuple[SlopeFit, int] | None:
    if b.t.size < MIN_BUCKETS:
        return None
    seg, shifts = _split_one_shift(b, floor)
    try:
        return theil_sen(b.t, b.y, seg, confidence=confidence), shifts
    except ValueError:
        return None


def _still_growing(b: _Buckets, floor: float, thr_s: float) -> bool:
    """The later half of a recent window still grows above the threshold (point estimate).

    A warm-up tail (after a late restart) decelerates; a leak does not.
    """
    later = b.t >= (float(b.t[0]) + float(b.t[-1])) / 2
    part = _fit_window(_Buckets(b.t[later], b.y[later], b.seg[later]), floor)
    return part is None or part[0].slope > thr_s


def _outgrows_earlier(b: _Buckets, length_s: float, slope: float, floor: float,
                      thr_s: float) -> bool:
    """The recent rate beats every earlier stretch of the same length by the threshold.

    Growth that started late does; a series that wanders (a random walk, drift) shows similar
    rates in earlier stretches, so its recent rate is not evidence of a leak.
    """
    t0, t_end = float(b.t[0]), float(b.t[-1]) - length_s
    start = t0
    while start + length_s <= t_end + 1e-9:
        m = (b.t >= start) & (b.t < start + length_s)
        part = _fit_window(_Buckets(b.t[m], b.y[m], b.seg[m]), floor)
        if part is not None and slope - part[0].slope <= thr_s:
            return False
        start += length_s
    return True


def _given_back(b: _Buckets, growth: float, floor: float) -> bool:
    """True when one drop in ``b`` undoes at least half of ``growth``.

    Growth that a single drop gives back (a GC or cache cycle longer than the data resolves)
    is not sustained, however steep the ramp before it; a recent window is judged against the
    drops of the whole steady window, since its ramp may be the rise of such a cycle.
    """
    for s in np.unique(b.seg):
        y = b.y[b.seg == s]
        if any(size < 0 and -size >= 0.5 * growth for _a, _at, size in _shift_events(y, floor)):
            return True
    return False


def detect_leak(
    series: str,
    t: np.ndarray,
    y: np.ndarray,
    threshold_per_h: float,
    restarts: np.ndarray | None = None,
    *,
    scale: float = 1.0,
    unit: str = "",
) -> LeakResult:
    """Judge one series sampled at times ``t`` (s); NaN values are ignored."""
    ok = np.isfinite(y)
    t, y = t[ok], y[ok]
    seg_all = _segments(restarts[ok] if restarts is not None else None, t.size)
    res = LeakResult(series=series, status="inconclusive", threshold_per_h=threshold_per_h,
                     scale=scale, unit=unit)
    if t.size < MIN_BUCKETS:
        res.reason = f"only {t.size} samples; need at least {MIN_BUCKETS}"
        return res
    span_s = float(t[-1] - t[0])
    dt_s = float(np.median(np.diff(t)))
    width_s = max(3 * dt_s, span_s / TARGET_BUCKETS, 1e-3)
    if t.size > PREBUCKET_ABOVE:
        t, y, seg_all = _prebucket(t, y, seg_all, span_s / PREBUCKET_POINTS)
    longest = max(np.unique(seg_all, return_counts=True)[1])
    main = seg_all == np.unique(seg_all)[np.argmax(np.unique(seg_all, return_counts=True)[1])]
    period = cycle_period_s(t[main], y[main], min_cycles=2) if longest >= 48 else None
    res.period_s = period
    if period is not None:
        y = y.copy()
        for s in np.unique(seg_all):
            m = seg_all == s
            y[m], refined = remove_cycle(t[m], y[m], period)
            if s == seg_all[main][0]:
                res.period_s = refined
    res.bucket_s = width_s
    floor = max(threshold_per_h / 3600.0 * width_s, 1e-9 * float(np.median(np.abs(y))))
    steady = _steady_buckets(t, y, seg_all, width_s, floor, res)
    return _decide(res, steady, floor, width_s)


def _prebucket(t: np.ndarray, y: np.ndarray, seg: np.ndarray, width_s: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Medians of fine buckets (per restart segment): every later step then costs O(20k)."""
    parts = []
    for s in np.unique(seg):
        m = seg == s
        bt, bm, _ = bucket_medians(t[m], y[m], width_s, float(t[m][0]))
        parts.append((bt, bm, np.full(bt.size, s, dtype=np.int64)))
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]))


def _segments(restarts: np.ndarray | None, n: int) -> np.ndarray:
    if restarts is None:
        return np.zeros(n, dtype=np.int64)
    r = np.where(np.isfinite(restarts), restarts, np.nan)
    r = np.maximum.accumulate(np.nan_to_num(r, nan=0.0))
    labels: np.ndarray = np.r_[0, np.cumsum(np.diff(r) > 0)].astype(np.int64)
    return labels


def _steady_buckets(
    t: np.ndarray, y: np.ndarray, seg: np.ndarray, width_s: float, floor: float, res: LeakResult
) -> _Buckets:
    parts_t, parts_y, parts_s = [], [], []
    labels = np.unique(seg)
    for i, s in enumerate(labels):
        m = seg == s
        st, sy = t[m], y[m]
        bt, bm, _ = bucket_medians(st, sy, width_s, float(st[0]))
        start = _warmup_index(bt, bm, floor)
        if labels.size > 1 and bt.size >= 8 and start >= bt.size // 2:
            # Warm-up reached its cap: this segment may still be warming up. Another segment
            # carries the evidence; a warm-up tail must not pass for growth.
            start = bt.size
        if start:
            end = float(bt[start] - width_s / 2) if start < bt.size else float(st[-1])
            res.warmups.append((float(st[0]), end))
            if i == 0:
                res.warmup_s = end - float(t[0])
        parts_t.append(bt[start:])
        parts_y.append(bm[start:])
        parts_s.append(np.full(bt.size - start, s, dtype=np.int64))
    return _Buckets(np.concatenate(parts_t), np.concatenate(parts_y), np.concatenate(parts_s))


def _decide(res: LeakResult, steady: _Buckets, floor: float, width_s: float) -> LeakResult:
    thr_s = res.threshold_per_h / 3600.0
    full = _fit_window(steady, floor)
    if full is None:
        res.reason = (f"only {steady.t.size} buckets of {width_s:.0f}s after warm-up; "
                      f"need {MIN_BUCKETS} (run longer)")
        return res
    fit, shifts = full
    chosen, name = fit, "steady"
    res.level_shifts = shifts
    given_back = too_short = False
    t_end = float(steady.t[-1])
    span = t_end - float(steady.t[0])
    for frac, label in RECENT_WINDOWS:
        if frac < 1 and (frac * span < RECENT_MIN_S or (
                res.period_s is not None and frac * span < 2 * res.period_s)):
            continue  # a short window, or one under two cycles, would judge half a cycle
        m = steady.t >= t_end - frac * span
        window = _Buckets(steady.t[m], steady.y[m], steady.seg[m])
        part = (fit, shifts) if frac == 1 else _fit_window(window, floor, RECENT_CONFIDENCE)
        if part is None or part[0].lo <= thr_s:
            continue
        if frac < 1 and not (_still_growing(window, floor, thr_s)
                             and _outgrows_earlier(steady, frac * span, part[0].slope, floor,
                                                   thr_s)):
            continue
        if _given_back(steady, part[0].slope * frac * span, floor):
            given_back = True
            continue
        res.status, chosen, name = "leak", part[0], label
        break
    else:
        long_enough = span >= NO_LEAK_MIN_S
        res.status = ("no_leak" if fit.hi < thr_s and not given_back and long_enough
                      else "inconclusive")
        if fit.hi < thr_s and not long_enough:
            too_short = True
    res.window = name
    res.slope_per_h = chosen.slope * 3600.0
    res.ci_per_h = (chosen.lo * 3600.0, chosen.hi * 3600.0)
    res.reason = _reason(res, chosen, span if too_short else None)
    if given_back and res.status == "inconclusive":
        res.reason += "; a single drop gives back half the growth: not sustained (a slow cycle?)"
    res.fit = {"slope": chosen.slope, "lo": chosen.lo, "hi": chosen.hi,
               "segments": [(a, b, chosen.intercepts[s]) for s, (a, b) in chosen.spans.items()
                            if b > a]}
    return res


def _reason(res: LeakResult, fit: SlopeFit, short_s: float | None = None) -> str:
    assert res.slope_per_h is not None and res.ci_per_h is not None
    k, u = res.scale, f" {res.unit}/h" if res.unit else "/h"
    lo, hi = res.ci_per_h
    band = (f"{res.slope_per_h * k:.3g}{u} (95 % CI {lo * k:.3g} to {hi * k:.3g}) "
            f"over the {res.window} window")
    limit = f"{res.threshold_per_h * k:g}{u}"
    if res.status == "leak":
        return f"growth {band} exceeds the threshold {limit}"
    if res.status == "no_leak":
        return f"growth {band} stays below the threshold {limit}"
    if short_s is not None:
        return (f"growth {band} is below the threshold {limit}, but {short_s:.0f} s of steady "
                f"data cannot rule a leak out (that takes {NO_LEAK_MIN_S / 60:.0f} minutes)")
    why = "too short or too noisy for this threshold"
    if fit.inflation > 2:
        why = f"strongly autocorrelated (slow cycles or drift; ×{fit.inflation:.1f} variance)"
    return f"growth {band} straddles the threshold {limit}: data {why}"
