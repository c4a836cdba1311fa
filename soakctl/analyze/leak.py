"""Leak detection on one series: is its sustained growth rate above a threshold?

The decision rule, in one sentence (``RULE``, printed in the report): *a series leaks when we
are confident that its sustained growth rate — the Theil–Sen slope of per-bucket medians after
warm-up and cycle removal, measured within restart segments — exceeds the threshold, over the
whole steady window (95 %) or over a recent part of it that outgrows the earlier run and is
still growing at its end (99 %, at least 15 minutes); it does not leak when we are 95 %
confident the steady rate is below the threshold; otherwise the data cannot tell
(inconclusive).*

Steps, each robust to one failure mode of the least-squares slope:

0. **Bursts**: in a series whose upward excursions (buffers held for seconds, a compaction
   for a minute or two) dominate its noise, the fine buckets inside a burst are left out, so
   the trend is that of the memory the process returns to (see ``envelope``).
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
6. **Trend test**: Sen's CI, widened for the residuals' autocorrelation (see ``trend``);
   which window decides is in ``windows``, warm-up and steps in ``steps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, cast

import numpy as np

from soakctl.analyze.envelope import WINDOW_FRACTION, is_bursty, without_bursts
from soakctl.analyze.steps import MIN_BUCKETS, Buckets, warmup_index
from soakctl.analyze.trend import bucket_medians, cycle_period_s, remove_cycle
from soakctl.analyze.windows import decide
from soakctl.contracts import CountLeak, LeakStatus, MemoryLeak

MIB = 1 << 20

PREBUCKET_ABOVE = 50_000  # longer series are first reduced to 20,000 fine-bucket medians
PREBUCKET_POINTS = 20_000
MAX_SEGMENTS = 200  # a crash loop's restart segments beyond this many add cost, not evidence
TARGET_BUCKETS = 200
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
    bursts_left_out: bool = False  # a bursty series, judged without its upward bursts
    fit: dict[str, Any] = field(default_factory=dict)  # for drawing: t0, t1, line, band
    warmups: list[tuple[float, float]] = field(default_factory=list)  # excluded (ts, ts) spans
    scale: float = 1.0  # series units -> display units (bytes -> MiB)
    unit: str = ""  # display unit, e.g. "MiB"

    @property
    def detected(self) -> bool:
        return self.status == "leak"

    def to_json(self, *, memory: bool) -> MemoryLeak | CountLeak:
        """The ``analysis.json`` leak block: MiB/h for a memory series, units/h otherwise."""
        scale = 1 / MIB if memory else 1.0

        def s(v: float | None) -> float | None:
            return None if v is None else round(float(v) * scale, 6)

        ci: list[float | None] = (
            [s(self.ci_per_h[0]), s(self.ci_per_h[1])] if self.ci_per_h else [None, None])
        status = cast(LeakStatus, self.status)
        period = None if self.period_s is None else round(float(self.period_s), 3)
        warmup, bucket = round(float(self.warmup_s), 3), round(float(self.bucket_s), 3)
        if memory:
            return MemoryLeak(
                series=self.series, status=status, detected=self.detected,
                slope_mib_per_hour=s(self.slope_per_h), ci_mib_per_hour=ci,
                threshold_mib_per_hour=s(self.threshold_per_h), method=METHOD,
                warmup_s=warmup, reason=self.reason, window=self.window, bucket_s=bucket,
                period_s=period, level_shifts=self.level_shifts,
                min_detectable_mib_per_hour=s(min_detectable_per_h(self)),
            )
        return CountLeak(
            series=self.series, status=status, detected=self.detected,
            slope_per_hour=s(self.slope_per_h), ci_per_hour=ci,
            threshold_per_hour=s(self.threshold_per_h), method=METHOD,
            warmup_s=warmup, reason=self.reason, window=self.window, bucket_s=bucket,
            period_s=period, level_shifts=self.level_shifts,
            min_detectable_per_hour=s(min_detectable_per_h(self)),
        )


def min_detectable_per_h(res: LeakResult, power: float = 0.95) -> float | None:
    """The smallest leak rate this run's deciding window would have caught with ``power``.

    The Theil–Sen slope is equivariant (a leak of rate R adds R to every pairwise slope), so
    a leak shifts the 95 % interval [lo, hi] (width 2·1.96·σ) by R; it is caught when its
    lower end clears the threshold, which happens with probability ``power`` when
    R ≥ threshold + (1.96 + z_power)·σ. None when the run gave no interval (too short).
    """
    if res.ci_per_h is None:
        return None
    lo, hi = res.ci_per_h
    sigma = max(hi - lo, 0.0) / (2 * 1.959964)
    return res.threshold_per_h + (1.959964 + NormalDist().inv_cdf(power)) * sigma


def detect_leak(
    series: str,
    t: np.ndarray,
    y: np.ndarray,
    threshold_per_h: float,
    restarts: np.ndarray | None = None,
    *,
    scale: float = 1.0,
    unit: str = "",
    min_warmup_s: float = 0.0,
) -> LeakResult:
    """Judge one series sampled at times ``t`` (s); NaN values are ignored.

    ``min_warmup_s``: exclude at least this much of the first segment as warm-up (the run's
    memory series share one start-up: RSS and USS are judged after the same warm-up).
    """
    ok = np.isfinite(y)
    if not ok.all():  # copies only when there is something to drop (10⁶ samples: 16 MB)
        t, y = t[ok], y[ok]
        restarts = restarts[ok] if restarts is not None else None
    seg_all = _segments(restarts, t.size)
    res = LeakResult(series=series, status="inconclusive", threshold_per_h=threshold_per_h,
                     scale=scale, unit=unit)
    if t.size < MIN_BUCKETS:
        res.reason = f"only {t.size} samples; need at least {MIN_BUCKETS}"
        return res
    t, y, seg_all = _longest_segments(t, y, seg_all)
    span_s = float(t[-1] - t[0])
    dt_s = float(np.median(np.diff(t), overwrite_input=True)) if t.size > 1 else 1.0
    width_s = max(3 * dt_s, span_s / TARGET_BUCKETS, 1e-3)
    seg_span_s = _median_segment_span(t, seg_all)
    if seg_span_s < 8 * width_s:
        # Frequent restarts: buckets small enough that each segment holds several of them,
        # so growth between restarts (a crash loop that leaks) can still be measured.
        width_s = max(3 * dt_s, seg_span_s / 8, 1e-3)
    if t.size > PREBUCKET_ABOVE:
        t, y, seg_all = _prebucket(t, y, seg_all, span_s / PREBUCKET_POINTS)
    main = _main_segment(seg_all)
    if is_bursty(t[main], y[main], threshold_per_h / 3600.0):
        t, y, seg_all = _without_bursts(t, y, seg_all, span_s)
        main = _main_segment(seg_all)
        res.bursts_left_out = True
    longest = max(np.unique(seg_all, return_counts=True)[1])
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
    steady, whole = _steady_buckets(t, y, seg_all, width_s, floor, res, min_warmup_s)
    decide(res, steady, floor, width_s, whole)
    if res.bursts_left_out:
        res.reason += ("; judged without the upward bursts (memory freed again within "
                       f"{WINDOW_FRACTION * span_s:.0f} s)")
    return res


def _longest_segments(t: np.ndarray, y: np.ndarray, seg: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At most ``MAX_SEGMENTS`` restart segments, the ones with the most samples (crash loops)."""
    labels, counts = np.unique(seg, return_counts=True)
    if labels.size <= MAX_SEGMENTS:
        return t, y, seg
    keep = np.isin(seg, labels[np.argsort(counts, kind="stable")[-MAX_SEGMENTS:]])
    return t[keep], y[keep], seg[keep]


def _median_segment_span(t: np.ndarray, seg: np.ndarray) -> float:
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    ends = np.r_[starts[1:], seg.size] - 1
    return float(np.median(t[ends] - t[starts]))


def _prebucket(t: np.ndarray, y: np.ndarray, seg: np.ndarray, width_s: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Medians of fine buckets (per restart segment): every later step then costs O(20k)."""
    labels = np.unique(seg)
    if labels.size == 1:  # the common case: no restart, no mask copies
        bt, bm, _ = bucket_medians(t, y, width_s, float(t[0]))
        return bt, bm, np.full(bt.size, labels[0], dtype=np.int64)
    parts = []
    for s in labels:
        m = seg == s
        bt, bm, _ = bucket_medians(t[m], y[m], width_s, float(t[m][0]))
        parts.append((bt, bm, np.full(bt.size, s, dtype=np.int64)))
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]))


def _main_segment(seg: np.ndarray) -> np.ndarray:
    """Mask of the restart segment with the most samples."""
    labels, counts = np.unique(seg, return_counts=True)
    mask: np.ndarray = seg == labels[np.argmax(counts)]
    return mask


def _without_bursts(t: np.ndarray, y: np.ndarray, seg: np.ndarray, span_s: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each restart segment's fine buckets, the bursts left out (``envelope``)."""
    parts = []
    for s in np.unique(seg):
        m = seg == s
        ft, fy = without_bursts(t[m], y[m], span_s)
        parts.append((ft, fy, np.full(ft.size, s, dtype=np.int64)))
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]))


def _segments(restarts: np.ndarray | None, n: int) -> np.ndarray:
    """A restart-segment label per sample; one byte each when there is a single segment."""
    if restarts is None:
        return np.zeros(n, dtype=np.int8)
    ok = np.isfinite(restarts)
    finite = restarts if ok.all() else restarts[ok]  # no copy of a complete column
    if finite.size == 0 or (float(finite.max()) == float(finite[0]) and (
            finite.size == restarts.size or float(finite[0]) == 0)):
        return np.zeros(n, dtype=np.int8)  # no restart during the run: one segment
    r = np.maximum.accumulate(np.nan_to_num(restarts, nan=0.0))
    labels: np.ndarray = np.r_[0, np.cumsum(np.diff(r) > 0)].astype(np.int64)
    return labels


def _steady_buckets(
    t: np.ndarray, y: np.ndarray, seg: np.ndarray, width_s: float, floor: float, res: LeakResult,
    min_warmup_s: float = 0.0,
) -> tuple[Buckets, Buckets]:
    """The buckets after each segment's warm-up, and the first segment's buckets whole."""
    parts_t, parts_y, parts_s = [], [], []
    whole = Buckets(np.empty(0), np.empty(0), np.empty(0, dtype=np.int64))
    labels = np.unique(seg)
    for i, s in enumerate(labels):
        m = seg == s
        st, sy = t[m], y[m]
        bt, bm, _ = bucket_medians(st, sy, width_s, float(st[0]))
        start = warmup_index(bt, bm, floor)
        if i == 0:
            whole = Buckets(bt, bm, np.full(bt.size, s, dtype=np.int64))
            if min_warmup_s > 0:
                forced = int(np.searchsorted(bt, float(t[0]) + min_warmup_s + width_s / 2))
                start = max(start, min(forced, bt.size // 2))
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
    steady = Buckets(np.concatenate(parts_t), np.concatenate(parts_y), np.concatenate(parts_s))
    return steady, whole


