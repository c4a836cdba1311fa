"""Bursts: transient allocations left out, so the trend is judged on what memory stays.

A process that allocates in bursts (temporary buffers, a cache filled then trimmed, a
Prometheus head-block compaction) shows upward excursions of tens of MiB that last seconds to
minutes and then are freed. Bucket medians do not remove an excursion longer than half a
bucket; its fall reads as "growth given back" and its scatter widens the interval. What a
leak raises is the floor the series returns to between bursts; a burst does not.

:func:`is_bursty` says when a series is bursty: about its local level (the median of each
block of two windows, a burst never more than half of one), the upper tail of its
fine-bucket medians (95th percentile) is ``BURSTY_RATIO`` times the lower tail (5th) and
higher than a leak at the threshold grows in one window. Symmetric noise, a GC sawtooth (a
ramp up and a drop down are both in the tails), steps and glitches both ways are not.

:func:`without_bursts` then leaves the bursts out: the floor is the morphological opening of
the fine-bucket medians (a running minimum, then a running maximum, over a window of a tenth
of the run) about a robust line, which cuts every upward excursion narrower than the window
and keeps everything wider (a trend, a staircase step, a warm-up curve, a drop that stays
down) exactly; the line is taken out first so the window's edges do not flatten a trend. A
fine bucket well above the floor (``CUT_SIGMAS`` robust sigmas over its typical height) is
in a burst and is left out, like a gap in sampling. The medians (three samples or more) come
first, so isolated downward glitches do not pull the floor down.
"""

from __future__ import annotations

import itertools

import numpy as np

from soakctl.analyze.steps import robust_sigma
from soakctl.analyze.trend import bucket_medians

WINDOW_FRACTION = 0.1  # the opening spans a tenth of the run: 3 minutes of a 30-minute window
BURSTY_RATIO = 3.0  # the upper tail about the local level this many times the lower tail
BURSTY_QUANTILE = 0.95
FINE_POINTS = 2000  # fine buckets per run (at least three samples each)
CUT_SIGMAS = 3.0  # a fine bucket this far above its typical height over the floor: a burst


def _running(y: np.ndarray, window: int, op: np.ufunc) -> np.ndarray:
    """``op`` (min or max) over a centred window of ``window`` points (odd), edges replicated.

    Van Herk / Gil-Werman: per block of ``window``, a prefix and a suffix accumulation; each
    window is one suffix and one prefix, so the cost is O(n) whatever the window.
    """
    h = window // 2
    w = 2 * h + 1
    if y.size == 0 or w == 1:
        return y.copy()
    pad = np.concatenate([np.full(h, y[0]), y, np.full(h, y[-1])])
    n = pad.size
    m = -(-n // w) * w
    blocks = np.concatenate([pad, np.full(m - n, pad[-1])]).reshape(-1, w)
    prefix = op.accumulate(blocks, axis=1).ravel()
    suffix = op.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    out: np.ndarray = op(suffix[: n - w + 1], prefix[w - 1 : n])
    return out


def opening(y: np.ndarray, window: int) -> np.ndarray:
    """Upward excursions narrower than ``window`` points cut off; all else kept."""
    return _running(_running(y, window, np.minimum), window, np.maximum)


def _robust_line(t: np.ndarray, y: np.ndarray, blocks: int = 40) -> np.ndarray:
    """A line through the blocks' lower quartiles (Theil–Sen of ~40 points): its slope is the
    trend's whatever the spikes (equal blocks shift every quartile alike)."""
    edges = np.linspace(0, t.size, min(blocks, t.size) + 1).astype(np.int64)
    spans = [(a, b) for a, b in itertools.pairwise(edges.tolist()) if b > a]
    bt = np.array([t[a:b].mean() for a, b in spans])
    bq = np.array([np.percentile(y[a:b], 25) for a, b in spans])
    if bt.size < 2:
        return np.full(t.size, float(np.median(y)))
    i, j = np.triu_indices(bt.size, 1)
    slope = float(np.median((bq[j] - bq[i]) / (bt[j] - bt[i])))
    line: np.ndarray = slope * (t - t[0]) + float(np.median(bq - slope * (bt - t[0])))
    return line


def fine_medians(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Medians of fine buckets (three samples or more, about ``FINE_POINTS`` per run)."""
    span_s = float(t[-1] - t[0]) if t.size else 0.0
    dt_s = float(np.median(np.diff(t))) if t.size > 1 else 1.0
    width_s = max(3 * dt_s, span_s / FINE_POINTS, 1e-3)
    bt, bm, _ = bucket_medians(t, y, width_s, float(t[0]))
    return bt, bm, width_s


def window_points(span_s: float, width_s: float) -> int:
    return max(int(WINDOW_FRACTION * span_s / width_s) | 1, 3)


def is_bursty(t: np.ndarray, y: np.ndarray, threshold_per_s: float) -> bool:
    """Upward bursts dominate: the series is judged on its floor (see the module docstring).

    The fine-bucket medians are taken about their median per block of two windows (the local
    level, a burst never more than half of it); the upper tail of what is left (its 95th
    percentile) must be ``BURSTY_RATIO`` times the lower tail (its 5th) and exceed what a leak
    at the threshold grows over one window.
    """
    if t.size < 48:
        return False
    _, bm, width_s = fine_medians(t, y)
    w = window_points(float(t[-1] - t[0]), width_s)
    blocks = bm.size // (2 * w)
    if blocks < 2:
        return False
    x = bm[: blocks * 2 * w].reshape(blocks, 2 * w)
    r = x - np.median(x, axis=1, keepdims=True)
    up = float(np.quantile(r, BURSTY_QUANTILE))
    down = -float(np.quantile(r, 1 - BURSTY_QUANTILE))
    return up > BURSTY_RATIO * down and up > threshold_per_s * w * width_s


def without_bursts(t: np.ndarray, y: np.ndarray, span_s: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """One restart segment's fine buckets, those inside a burst left out: (times, values).

    A fine bucket more than ``CUT_SIGMAS`` robust sigmas above the typical height over the
    floor (the opening, over a tenth of ``span_s``: the run's, so every segment is opened
    alike) is part of a burst. Left out rather than set to the floor, the kept buckets keep
    their noise and a drop stays one sharp drop (the step and drop rules read both).
    """
    bt, bm, width_s = fine_medians(t, y)
    if bm.size < 3:
        return bt, bm
    w = window_points(span_s, width_s)
    r = bm - _robust_line(bt, bm)
    above = r - opening(r, w)
    keep = above <= float(np.median(above)) + CUT_SIGMAS * robust_sigma(above)
    return bt[keep], bm[keep]
