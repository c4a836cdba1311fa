"""Steps, warm-up and the bucket series they are found in.

:class:`Buckets` is a bucket-median series with restart-segment labels. :func:`warmup_index`
finds where a segment's warm-up ends; :func:`shift_events` finds abrupt level shifts, and
:func:`split_one_shift` turns a single upward one (a one-off allocation) into a segment
boundary, so it does not count as growth while a staircase of them does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from soakctl.analyze.trend import theil_sen

MIN_BUCKETS = 6
WARMUP_SIGMAS = 4.0
SHIFT_SIGMAS = 6.0


@dataclass
class Buckets:
    t: np.ndarray
    y: np.ndarray
    seg: np.ndarray


def robust_sigma(x: np.ndarray) -> float:
    return float(np.median(np.abs(x - np.median(x)))) * 1.4826 if x.size else 0.0


def warmup_index(bt: np.ndarray, bm: np.ndarray, floor: float) -> int:
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
    sigma = max(robust_sigma(resid[half:]), floor)
    out = np.flatnonzero(np.abs(resid[:half]) > WARMUP_SIGMAS * sigma)
    start = int(out[-1]) + 1 if out.size else 0
    signs = np.sign(resid[:start])
    if start and abs(float(signs.mean())) < 0.8:
        return 0  # off the line on both sides: a slow cycle or noise, not a warm-up
    for run_start, at, size in shift_events(bm, floor):
        if run_start > 0 and at < start and size > 0:
            return max(at - 1, 0)
    return start


def shift_events(y: np.ndarray, floor: float, k: int = 3) -> list[tuple[int, int, float]]:
    """Persistent level shifts in ``y``: (first flagged index, bucket where the new level
    starts, size).

    The level is the median of ``k`` buckets; a shift is a change of level between adjacent
    ``k``-bucket windows that stands out from the typical change (a steady trend) by more than
    ``SHIFT_SIGMAS`` robust sigmas of the bucket-to-bucket noise and is over within ``2k``
    buckets. A one-bucket spike is not one, nor is a ramp.
    """
    if y.size < 2 * k + 1:
        return []
    sigma = max(robust_sigma(np.diff(y)) / np.sqrt(2.0), floor)
    if k == 3:  # median of three without a sort: the hot path (live evaluation, planning)
        lo, mid, hi = y[:-2], y[1:-1], y[2:]
        med = np.maximum(np.minimum(lo, mid), np.minimum(np.maximum(lo, mid), hi))
    else:
        med = np.median(np.lib.stride_tricks.sliding_window_view(y, k), axis=1)
    jump = med[k:] - med[:-k]  # jump[i]: level of buckets i+k.. vs buckets i..i+k-1
    jump = jump - np.median(jump)
    # Runs of same-signed flagged jumps: a spike followed by a drop (a compaction) is a rise
    # and a fall, not one long ramp.
    flag = (np.sign(jump) * (np.abs(jump) > SHIFT_SIGMAS * sigma)).astype(np.int8)
    change = np.flatnonzero(np.diff(np.r_[0, flag, 0]) != 0)
    events = []
    for a, e in itertools.pairwise(change.tolist()):
        if flag[a] == 0:
            continue
        if e - a > 2 * k:
            continue  # the level kept changing for many buckets: a ramp, not a step
        at = int(a + np.argmax(np.abs(jump[a:e])))
        events.append((int(a), at + k, float(jump[at])))
    return _merge_spikes(events, SHIFT_SIGMAS * sigma, 2 * k)


def _merge_spikes(events: list[tuple[int, int, float]], significant: float, within: int
                  ) -> list[tuple[int, int, float]]:
    """A shift with one the other way within ``within`` buckets is a transient (a spike or a
    dip lasting a few buckets): the pair becomes one shift of their net size, or nothing when
    the level came back. A compaction (a spike, then a fall below where it started) stays a
    fall; a big allocation freed seconds later is no fall at all. The biggest shifts pick their
    partner first, the one they cancel best, so a small step beside a spike stays a step."""
    used = [False] * len(events)
    merged: list[tuple[int, int, float]] = []
    for i in sorted(range(len(events)), key=lambda k: -abs(events[k][2])):
        if used[i]:
            continue
        used[i] = True
        a, at, size = events[i]
        partners = [j for j in range(len(events)) if not used[j]
                    and abs(events[j][1] - at) <= within and (events[j][2] > 0) != (size > 0)
                    and abs(size + events[j][2]) < max(abs(size), abs(events[j][2]))]
        if not partners:
            merged.append(events[i])
            continue
        j = min(partners, key=lambda k: abs(size + events[k][2]))
        used[j] = True
        net = size + events[j][2]
        if abs(net) > significant:
            merged.append((min(a, events[j][0]), max(at, events[j][1]), net))
    return sorted(merged, key=lambda e: e[1])


def split_one_shift(b: Buckets, floor: float) -> tuple[np.ndarray, int]:
    """Split at a single upward level shift; return the labels and the number of up-shifts.

    Only upward shifts are one-off allocations; a single drop (a GC, a cache flush) is left in
    place: splitting there would turn a sawtooth into rising segments.
    """
    seg = b.seg.copy()
    events: list[int] = []
    for s in np.unique(b.seg):
        idx = np.flatnonzero(b.seg == s)
        events += [int(idx[at]) for _a, at, size in shift_events(b.y[idx], floor) if size > 0]
    if len(events) == 1:
        seg[events[0]:][seg[events[0]:] == seg[events[0]]] = seg.max() + 1
    return seg, len(events)
