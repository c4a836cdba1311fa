"""Which window decides, and the words for the decision.

:func:`decide` fits the steady window (everything after warm-up) and its recent parts, applies
the conditions of the decision rule (``RULE``: 95 % for the steady window; 99 %, 15 minutes,
outgrowing the earlier run, still growing and not given back for a recent part) and fills in
the :class:`~soakctl.analyze.leak.LeakResult`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from soakctl.analyze.steps import MIN_BUCKETS, Buckets, shift_events, split_one_shift
from soakctl.analyze.trend import SlopeFit, theil_sen

if TYPE_CHECKING:
    from soakctl.analyze.leak import LeakResult

NO_LEAK_MIN_S = 600.0  # a shorter steady window can show a leak, not rule one out
RECENT_MIN_S = 900.0  # a recent window must span 15 minutes to be judged alone
STRETCH_FROM = 0.8  # a recent half this close to RECENT_MIN_S is judged over RECENT_MIN_S
RECENT_CONFIDENCE = 0.99  # five recent windows are five more chances: each must clear 99 %
DECELERATION_RATIO = 0.7  # the last third grows under 70 % as fast as the first: warming up
STARTUP_RATIO = 0.35  # a short run whose last third grows a third as fast as its first
SHORT_RUN_S = 3600.0  # under an hour, decelerating growth is also judged on point estimates
RECENT_WINDOWS = ((1.0, "steady"), (0.5, "recent half"), (1 / 3, "recent third"),
                  (0.25, "recent quarter"), (1 / 6, "recent sixth"), (0.125, "recent eighth"))


def fit_window(b: Buckets, floor: float, confidence: float = 0.95, *, split: bool = True
                ) -> tuple[SlopeFit, int] | None:
    """The window's pooled Theil–Sen fit and its number of upward level shifts; a single one
    is a one-off allocation and splits the window (``split=False``: part of a staircase)."""
    if b.t.size < MIN_BUCKETS:
        return None
    seg, shifts = split_one_shift(b, floor) if split else (b.seg, 0)
    try:
        return theil_sen(b.t, b.y, seg, confidence=confidence), shifts
    except ValueError:
        return None


def still_growing(b: Buckets, floor: float, thr_s: float) -> bool:
    """The later half of a recent window still grows above the threshold (point estimate).

    A warm-up tail (after a late restart) decelerates; a leak does not.
    """
    later = b.t >= (float(b.t[0]) + float(b.t[-1])) / 2
    part = fit_window(Buckets(b.t[later], b.y[later], b.seg[later]), floor)
    return part is None or part[0].slope > thr_s


def outgrows_earlier(b: Buckets, length_s: float, slope: float, floor: float,
                      thr_s: float) -> bool:
    """The recent rate beats every earlier stretch of the same length by the threshold.

    Growth that started late does; a series that wanders (a random walk, drift) shows similar
    rates in earlier stretches, so its recent rate is not evidence of a leak.
    """
    t0, t_end = float(b.t[0]), float(b.t[-1]) - length_s
    start = t0
    # At least the first stretch, overlapping the recent one when the run holds under two.
    while start == t0 or start + length_s <= t_end + 1e-9:
        m = (b.t >= start) & (b.t < start + length_s)
        part = fit_window(Buckets(b.t[m], b.y[m], b.seg[m]), floor)
        if part is not None and slope - part[0].slope <= thr_s:
            return False
        start += length_s
    return True


def _thirds_ratio(b: Buckets, floor: float) -> tuple[float, bool]:
    """Slope of the last third over the first third's, and whether their 95 % CIs are apart.

    In a staircase (two or more upward shifts in ``b``) a third's one step is a stair, not a
    one-off allocation: the thirds are not split at it, or a third holding one stair would
    read as flat and the staircase as slowing down.
    """
    span = float(b.t[-1] - b.t[0]) if b.t.size else 0.0
    t0 = float(b.t[0]) if b.t.size else 0.0
    first = b.t <= t0 + span / 3
    last = b.t >= t0 + 2 * span / 3
    split = b.t.size == 0 or split_one_shift(b, floor)[1] < 2
    a = fit_window(Buckets(b.t[first], b.y[first], b.seg[first]), floor, split=split)
    z = fit_window(Buckets(b.t[last], b.y[last], b.seg[last]), floor, split=split)
    if a is None or z is None or a[0].slope <= 0:
        return 1.0, False
    return z[0].slope / a[0].slope, z[0].hi < a[0].lo


def decelerates(steady: Buckets, whole: Buckets | None, floor: float) -> bool:
    """The growth slows down: a start-up or cache warm-up curve, not a leak.

    Any run: the steady window's last third grows under ``DECELERATION_RATIO`` of its first
    third's rate with the two 95 % intervals apart (a staircase or noise makes thirds differ by
    chance; their intervals are wide). A short run (under ``SHORT_RUN_S``) has too few buckets
    for intervals, so point estimates decide: the whole run (start-up included) slows to under
    ``STARTUP_RATIO``, or both views slow down (under ``DECELERATION_RATIO`` plus a margin, and
    half). A leak grows at a steady rate, a start-up jump before it slows the whole run down
    only so much; a warm-up's rate keeps falling.
    """
    ratio, apart = _thirds_ratio(steady, floor)
    if ratio < DECELERATION_RATIO and apart:
        return True
    if whole is None or whole.t.size < 3 * MIN_BUCKETS:
        return False
    if float(whole.t[-1] - whole.t[0]) >= SHORT_RUN_S:
        return False
    whole_ratio, _ = _thirds_ratio(whole, floor)
    return whole_ratio < STARTUP_RATIO or (ratio < DECELERATION_RATIO + 0.05
                                            and whole_ratio < 0.5)


def given_back(b: Buckets, growth: float, floor: float) -> bool:
    """True when one drop in ``b`` undoes at least half of ``growth``.

    Growth that a single drop gives back (a GC or cache cycle longer than the data resolves)
    is not sustained, however steep the ramp before it; a recent window is judged against the
    drops of the whole steady window, since its ramp may be the rise of such a cycle.
    """
    for s in np.unique(b.seg):
        y = b.y[b.seg == s]
        # Levels of a twentieth of the window (at least five buckets): an allocation freed
        # within half that is a spike, no drop; a GC or compaction drop stays one.
        if any(size < 0 and -size >= 0.5 * growth
               for _a, _at, size in shift_events(y, floor, k=max(5, y.size // 20))):
            return True
    return False


def decide(res: LeakResult, steady: Buckets, floor: float, width_s: float,
           whole: Buckets | None = None) -> LeakResult:
    """Fill in ``res`` from the steady buckets (``whole``: the run with its warm-up)."""
    thr_s = res.threshold_per_h / 3600.0
    full = fit_window(steady, floor)
    if full is None:
        if steady.t.size >= MIN_BUCKETS:
            res.reason = ("no restart segment holds two buckets after warm-up: restarts are too "
                          "frequent to measure growth between them")
        else:
            res.reason = (f"only {steady.t.size} buckets of {width_s:.3g} s after warm-up; "
                          f"need {MIN_BUCKETS} (run longer)")
        return res
    fit, shifts = full
    chosen, name = fit, "steady"
    res.level_shifts = shifts
    gave_back = too_short = slowing = False
    t_end = float(steady.t[-1])
    span = t_end - float(steady.t[0])
    for frac, label in RECENT_WINDOWS:
        # Bucket centres span one bucket less than the time the buckets cover. A recent half
        # a little under 15 minutes (at least 12) is judged over the last 15: a warm-up of a
        # minute or two must not leave a 30-minute run without a recent window.
        length, covered = frac * span, frac * (span + width_s)
        if frac == 0.5 and STRETCH_FROM * RECENT_MIN_S <= covered < RECENT_MIN_S:
            length, covered = RECENT_MIN_S - width_s, RECENT_MIN_S
            label = f"recent {RECENT_MIN_S / 60:.0f} minutes"
        if frac < 1 and (covered < RECENT_MIN_S or (
                res.period_s is not None and length < 2 * res.period_s)):
            continue  # a short window, or one under two cycles, would judge half a cycle
        m = steady.t >= t_end - length
        window = Buckets(steady.t[m], steady.y[m], steady.seg[m])
        part = (fit, shifts) if frac == 1 else fit_window(window, floor, RECENT_CONFIDENCE)
        if part is None or part[0].lo <= thr_s:
            continue
        if frac < 1 and not (still_growing(window, floor, thr_s)
                             and outgrows_earlier(steady, length, part[0].slope, floor,
                                                   thr_s)):
            continue
        growth = part[0].slope * length
        if given_back(steady, growth, floor) or (whole is not None
                                                 and given_back(whole, growth, floor)):
            gave_back = True
            continue
        if frac == 1 and decelerates(window, whole, floor):
            slowing = True
            continue
        res.status, chosen, name = "leak", part[0], label
        break
    else:
        long_enough = span >= NO_LEAK_MIN_S
        res.status = ("no_leak" if fit.hi < thr_s and not gave_back and long_enough
                      else "inconclusive")
        if fit.hi < thr_s and not long_enough:
            too_short = True
    res.window = name
    res.slope_per_h = chosen.slope * 3600.0
    res.ci_per_h = (chosen.lo * 3600.0, chosen.hi * 3600.0)
    res.reason = reason(res, chosen, span if too_short else None)
    if slowing and res.status == "inconclusive":
        res.reason += ("; the growth slows down (a start-up or cache warm-up curve?): a leak "
                       "grows steadily, so run longer to tell them apart")
    if gave_back and res.status == "inconclusive":
        res.reason += "; a single drop gives back half the growth: not sustained (a slow cycle?)"
    res.fit = {"slope": chosen.slope, "lo": chosen.lo, "hi": chosen.hi,
               "segments": [(a, b, chosen.intercepts[s]) for s, (a, b) in chosen.spans.items()
                            if b > a]}
    return res


def reason(res: LeakResult, fit: SlopeFit, short_s: float | None = None) -> str:
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
