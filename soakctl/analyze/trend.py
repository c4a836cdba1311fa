"""Robust trend statistics: bucket medians, cycle period, pooled Theil–Sen with a widened CI.

* :func:`bucket_medians` downsamples a series to one robust value (the median) per fixed-width
  time bucket, vectorised with ``lexsort`` over chunks of whole buckets, so 10⁶ samples take a
  few tens of milliseconds and a few MB.
* :func:`cycle_period_s` finds a dominant cycle (GC sawtooth, periodic load) from the
  autocorrelation of the detrended series, so buckets can span whole cycles.
* :func:`theil_sen` is Sen's (1968) slope estimator — the median of pairwise slopes — pooled
  over segments (pairs never straddle a restart or a one-off level shift), with Sen's
  rank-based confidence interval computed exactly as ``scipy.stats.theilslopes`` does (a unit
  test checks they agree on one segment). The interval is widened by a variance-inflation
  factor from the residuals' rank autocorrelation (Geyer's initial positive sequence), so a slow
  cycle or a random walk does not pass for a trend. It is written with numpy because scipy's
  version cannot pool segments and ``import scipy.stats`` alone costs over a second here.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

# Long series are bucketed in chunks of this many samples, so the float temporaries and the
# sort of the medians stay a few hundred KiB instead of several copies of a 10⁶-sample column.
CHUNK = 1 << 16


def bucket_medians(
    t: np.ndarray, y: np.ndarray, width_s: float, origin_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bucket of ``width_s`` from ``origin_s``: mean time, median value, sample count.

    ``t`` must be sorted; empty buckets (gaps in sampling) are simply absent.
    """
    if t.size == 0:
        empty = np.empty(0)
        return empty, empty, empty
    bucket = bucket_index(t, origin_s, width_s)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    counts = np.diff(np.r_[starts, bucket.size])
    tmean = np.add.reduceat(t, starts) / counts
    return tmean, group_medians(y, bucket, starts, counts), counts


def bucket_index(t: np.ndarray, origin_s: float, width_s: float) -> np.ndarray:
    """``floor((t - origin_s) / width_s)`` as integers.

    Computed chunk by chunk through one small float buffer, into int32 when the indexes fit
    (the usual case), so a 10⁶-sample series costs 4 MB here and no float temporary.
    """
    ends = np.floor((np.array([t.min(), t.max()]) - origin_s) / width_s)
    fits = bool(np.all(np.abs(ends) < 2**30))
    out = np.empty(t.size, dtype=np.int32 if fits else np.int64)
    buf = np.empty(min(CHUNK, t.size))
    for a in range(0, t.size, CHUNK):
        part = buf[:min(CHUNK, t.size - a)]
        np.subtract(t[a:a + CHUNK], origin_s, out=part)
        part /= width_s
        np.floor(part, out=part)
        out[a:a + part.size] = part
    return out


def group_medians(y: np.ndarray, group: np.ndarray, starts: np.ndarray, counts: np.ndarray
                  ) -> np.ndarray:
    """Median of ``y`` per run of equal, non-decreasing ``group`` values.

    ``starts`` and ``counts`` are the runs, back to back over all of ``y``. Whole runs of about
    ``CHUNK`` samples are taken at a time: the same medians, with chunk-sized temporaries.
    """
    if y.size <= CHUNK:
        return _chunk_medians(y, group, starts, counts)
    med = np.empty(starts.size)
    g = 0
    while g < starts.size:
        a = int(starts[g])
        stop = max(int(np.searchsorted(starts, a + CHUNK, side="left")), g + 1)
        b = int(starts[stop]) if stop < starts.size else y.size
        med[g:stop] = _chunk_medians(y[a:b], group[a:b], starts[g:stop] - a, counts[g:stop])
        g = stop
    return med


def _chunk_medians(y: np.ndarray, group: np.ndarray, starts: np.ndarray, counts: np.ndarray
                   ) -> np.ndarray:
    width = int(counts.max())
    if width * starts.size <= 2 * y.size + 1024:
        # Groups of similar size (regular sampling, the usual case): one row per group padded
        # with NaN (ordered last, never picked), then a row-wise partition at the middle
        # ranks; ten times faster than the lexsort below.
        grid = np.full((starts.size, width), np.nan)
        grid[np.repeat(np.arange(starts.size), counts),
             np.arange(y.size) - np.repeat(starts, counts)] = y
        kth = np.unique(np.r_[(counts - 1) // 2, counts // 2])
        if kth.size <= 8:
            grid.partition(kth, axis=1)
        else:
            grid.sort(axis=1)
        rows = np.arange(starts.size)
        padded: np.ndarray = (grid[rows, (counts - 1) // 2] + grid[rows, counts // 2]) / 2.0
        return padded
    if y.size >= 1000 * starts.size:
        # Few large groups of unequal sizes: one O(k) median per contiguous slice.
        return np.array([np.median(y[a:a + c]) for a, c in zip(starts, counts, strict=True)])
    ys = y[np.lexsort((y, group))]
    med: np.ndarray = (ys[starts + (counts - 1) // 2] + ys[starts + counts // 2]) / 2.0
    return med


def cycle_period_s(t: np.ndarray, y: np.ndarray, min_cycles: int = 3) -> float | None:
    """The dominant cycle of ``y`` in seconds, or None when there is no clear one.

    The series is bucketed on a regular grid (≤ 4096 points), detrended with a least-squares line,
    clipped at 5 robust sigmas (spikes), and the first autocorrelation peak after the first zero
    crossing is taken when it is strong (ρ ≥ 0.3) and leaves at least ``min_cycles`` cycles.
    """
    span_s = float(t[-1] - t[0]) if t.size else 0.0
    if t.size < 48 or span_s <= 0:
        return None
    dt = float(np.median(np.diff(t)))
    width_s = max(dt, span_s / 4096)
    bt, bm, _ = bucket_medians(t, y, width_s, float(t[0]))
    if bm.size < 48:
        return None
    grid = float(t[0]) + (np.arange(int(span_s // width_s) + 1) + 0.5) * width_s
    z = np.interp(grid, bt, bm)
    z = z - np.polyval(np.polyfit(grid - grid[0], z, 1), grid - grid[0])
    mad = float(np.median(np.abs(z - np.median(z)))) * 1.4826
    if mad > 0:
        z = np.clip(z, -5 * mad, 5 * mad)
    n = z.size
    spec = np.fft.rfft(z, 2 * n)
    acf = np.fft.irfft(spec * np.conj(spec))[:n]
    if acf[0] <= 0:
        return None
    acf = acf / acf[0]
    below = np.flatnonzero(acf < 0)
    limit = n // min_cycles
    if below.size == 0 or below[0] >= limit:
        return None
    window = acf[below[0]:limit]
    best = float(window.max())
    if best < 0.3:
        return None
    # The first peak nearly as high as the highest: the fundamental, not a multiple of it.
    peaks = np.flatnonzero((window[1:-1] >= window[:-2]) & (window[1:-1] >= window[2:])) + 1
    strong = [int(p) for p in peaks if window[p] >= 0.9 * best]
    lag = int(below[0]) + (strong[0] if strong else int(np.argmax(window)))
    if lag < 2:
        return None
    # Parabolic interpolation of the peak: the period to a fraction of a grid step, so a bucket
    # of one period covers every phase of the cycle once.
    a, b, c = acf[lag - 1], acf[lag], acf[lag + 1] if lag + 1 < n else acf[lag]
    denom = a - 2 * b + c
    offset = 0.5 * (a - c) / denom if denom < 0 else 0.0
    return (lag + float(np.clip(offset, -0.5, 0.5))) * width_s


PHASE_BINS = 32


def _phase_dispersion(t: np.ndarray, r: np.ndarray, period_s: float) -> float:
    """Within-phase-bin sum of squares of ``r`` folded at ``period_s`` (Stellingwerf's PDM)."""
    bins = np.minimum(((t % period_s) / period_s * PHASE_BINS).astype(np.int64), PHASE_BINS - 1)
    cnt = np.bincount(bins, minlength=PHASE_BINS)
    s1 = np.bincount(bins, r, minlength=PHASE_BINS)
    s2 = np.bincount(bins, r * r, minlength=PHASE_BINS)
    ok = cnt > 0
    return float(np.sum(s2[ok] - s1[ok] ** 2 / cnt[ok]))


def refine_period(t: np.ndarray, resid: np.ndarray, period_s: float) -> float:
    """The period near ``period_s`` that folds ``resid`` most tightly (coarse, then fine grid).

    The autocorrelation peak is only good to a grid step; subtracting a cycle profile over
    N cycles needs the period to ~1/(32 N) of itself, or the phase drifts into a fake trend.
    """
    rel = t - t[0]
    if rel.size > 8192:  # fold bucket medians, not 10⁶ samples
        bt, bm, _ = bucket_medians(t, resid, float(rel[-1]) / 8192, float(t[0]))
        rel, resid = bt - t[0], bm
    mad = float(np.median(np.abs(resid - np.median(resid)))) * 1.4826
    if mad > 0:
        resid = np.clip(resid, -5 * mad, 5 * mad)
    best = period_s
    for half_width, steps in ((0.03, 61), (0.001, 41)):
        grid = best * (1 + np.linspace(-half_width, half_width, steps))
        best = float(grid[np.argmin([_phase_dispersion(rel, resid, p) for p in grid])])
    return best


def remove_cycle(t: np.ndarray, y: np.ndarray, period_s: float) -> tuple[np.ndarray, float]:
    """``y`` minus its cycle, and the refined period.

    The cycle is the median residual per phase (32 bins) at the period refined by
    :func:`refine_period`. The trend is first taken from buckets one period wide (where the
    cycle cancels), so the phase profile is not tilted by growth. Needs at least three cycles;
    else ``y`` is returned unchanged.
    """
    span_s = float(t[-1] - t[0])
    if span_s < 3 * period_s:
        return y, period_s
    bt, bm, _ = bucket_medians(t, y, period_s, float(t[0]))
    if bt.size < 3:
        return y, period_s
    line = theil_sen(bt, bm, autocorrelation=False)
    resid = y - (line.slope * t + line.intercepts[0])
    period_s = refine_period(t, resid, period_s)
    bins = np.minimum((((t - t[0]) % period_s) / period_s * 32).astype(np.int16), 31)
    order = np.argsort(bins, kind="stable")  # radix sort for small integers: O(n)
    phase, profile, _ = bucket_medians(bins[order].astype(np.float64), resid[order], 1.0, 0.0)
    full = np.zeros(32)
    full[np.rint(phase).astype(np.int64)] = profile
    return y - full[bins], period_s


@dataclass(frozen=True)
class SlopeFit:
    """A pooled Theil–Sen fit: slope and CI in units per second, one intercept per segment."""

    slope: float
    lo: float
    hi: float
    intercepts: dict[int, float]
    n: int
    inflation: float
    spans: dict[int, tuple[float, float]]  # first and last time of each segment


def _pair_slopes(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    i, j = np.triu_indices(t.size, 1)
    dt = t[j] - t[i]
    ok = dt > 0
    slopes: np.ndarray = (y[j][ok] - y[i][ok]) / dt[ok]
    return slopes


def _rank_acf_inflation(resid: np.ndarray) -> float:
    """Variance inflation n/n_eff from the rank autocorrelation of the residuals.

    The sum runs over Geyer's (1992) initial positive sequence: lags are added in pairs while
    a pair's sum stays positive. Summing every significant lag instead (Hamed & Rao 1998)
    lets the negative lags of a slow cycle cancel its positive ones, so a half-cycle would
    pass for a trend; the initial sequence keeps the cycle's quarter-period of memory.
    """
    n = resid.size
    if n < 8:
        return 1.0
    r = np.argsort(np.argsort(resid, kind="stable"), kind="stable").astype(np.float64)
    r -= r.mean()
    denom = float(r @ r)
    if denom == 0:
        return 1.0
    total = 0.0
    for k in range(1, n - 2, 2):
        pair = (float(r[:-k] @ r[k:]) + float(r[: -(k + 1)] @ r[k + 1:])) / denom
        if pair <= 0:
            break
        total += pair
    return float(min(max(1.0 + 2.0 * total, 1.0), n / 2.0))


def theil_sen(
    t: np.ndarray,
    y: np.ndarray,
    segment: np.ndarray | None = None,
    confidence: float = 0.95,
    autocorrelation: bool = True,
) -> SlopeFit:
    """Median pairwise slope within segments, with Sen's CI widened for autocorrelation."""
    if segment is None:
        segment = np.zeros(t.size, dtype=np.int64)
    labels = np.unique(segment)
    parts = [_pair_slopes(t[segment == s], y[segment == s]) for s in labels]
    slopes = np.sort(np.concatenate(parts)) if parts else np.empty(0)
    if slopes.size == 0:
        raise ValueError("need at least two points at different times in one segment")
    slope = float(np.median(slopes))
    intercepts = {int(s): float(np.median(y[segment == s] - slope * t[segment == s]))
                  for s in labels}
    resid = y - slope * t - np.array([intercepts[int(s)] for s in segment])
    inflation = _rank_acf_inflation(resid) if autocorrelation else 1.0
    sizes = [int(np.sum(segment == s)) for s in labels]
    sigma = np.sqrt(sum(m * (m - 1) * (2 * m + 5) for m in sizes) / 18.0 * inflation)
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    nt = slopes.size
    upper = min(round((nt + z * sigma) / 2.0), nt - 1)
    lower = max(round((nt - z * sigma) / 2.0) - 1, 0)
    spans = {int(s): (float(t[segment == s].min()), float(t[segment == s].max()))
             for s in labels}
    return SlopeFit(slope=slope, lo=float(slopes[lower]), hi=float(slopes[upper]),
                    intercepts=intercepts, n=int(t.size), inflation=inflation, spans=spans)
