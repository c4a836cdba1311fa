"""Display downsampling: a long series becomes at most N (min, median, max) buckets.

A 24 h run at 1 Hz is 86,400 points per series; a chart 1,000 pixels wide shows at most that
many columns, so each chart draws the per-bucket median as a line over a min–max envelope.
Spikes stay visible in the envelope, and the file stays small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soakctl.analyze.trend import bucket_index, group_medians


@dataclass(frozen=True)
class Envelope:
    t: np.ndarray
    lo: np.ndarray
    mid: np.ndarray
    hi: np.ndarray


def envelope(t: np.ndarray, y: np.ndarray, max_points: int = 600) -> Envelope | None:
    """Bucket ``(t, y)`` into at most ``max_points`` time buckets; None when y is all NaN."""
    ok = np.isfinite(y)
    if not ok.all():  # copies only when there is something to drop
        t, y = t[ok], y[ok]
    if t.size == 0:
        return None
    span = float(t[-1] - t[0])
    if t.size <= max_points or span <= 0:
        return Envelope(t, y, y, y)
    bucket = bucket_index(t, float(t[0]), span / max_points * (1 + 1e-9))
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    counts = np.diff(np.r_[starts, bucket.size])
    mid = group_medians(y, bucket, starts, counts)
    return Envelope(np.add.reduceat(t, starts) / counts, np.minimum.reduceat(y, starts),
                    mid, np.maximum.reduceat(y, starts))
