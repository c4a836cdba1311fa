"""Per-series aggregates (min, max, avg, percentiles, last) over the loaded columns.

One ``np.percentile`` call per series computes every percentile from a single partition, so
stats for 18 series of 10⁶ samples cost well under a second and no copy beyond one column.
"""

from __future__ import annotations

import numpy as np

from soakctl.contracts import SeriesStats

PERCENTILES = (50, 90, 95, 99)


def series_stats(values: np.ndarray) -> SeriesStats | None:
    """``{"min","max","avg","p50","p90","p95","p99","last"}`` over finite values, or None."""
    ok = np.isfinite(values)
    finite = values if ok.all() else values[ok]  # no copy of a complete column
    if finite.size == 0:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:  # a constant series (restarts, zombies, pid...): no partition of a copy
        p50 = p90 = p95 = p99 = lo
    else:
        p50, p90, p95, p99 = (float(v) for v in np.percentile(finite, PERCENTILES))
    return SeriesStats(
        min=lo, max=hi, avg=float(finite.mean()),
        p50=p50, p90=p90, p95=p95, p99=p99, last=float(finite[-1]),
    )


def last_value(values: np.ndarray) -> float | None:
    finite = np.flatnonzero(np.isfinite(values))
    return float(values[finite[-1]]) if finite.size else None
