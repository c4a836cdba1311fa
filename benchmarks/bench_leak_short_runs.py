#!/usr/bin/env python3
"""Does the leak detector cry wolf on short runs? False alarms on clean traces that grow.

Usage: python benchmarks/bench_leak_short_runs.py [--draws 100] [--seed 50000]

Three families with no leak, at 1 Hz, drawn with seeds apart from the ones the tests use:

* start-up curves (``tracegen.startup_curve``): a fast rise, then a concave approach still
  climbing at 1-4x the threshold at the end, 3-45 minutes;
* spiky sawtooth (``tracegen.spiky_sawtooth``): fewer than three cycles of a Prometheus-like
  ramp, compaction spike and drop;
* random walks: no drift, steps of 0.02-0.15 MiB/s plus 0.3 MiB noise, 16-60 minutes, with or
  without a start-up jump of 5-30 MiB (time constant 20-120 s) - a wander is no leak.

Printed per family and length: how many traces were called ``leak`` (false alarms),
``inconclusive`` and ``no_leak`` at the default 10 MiB/h threshold, and the total. Run it
from two checkouts side by side to see what a detector change does to false alarms (the
draws are deterministic). Under three sawtooth cycles must stay at 0 (a test holds it); the
tests' start-up draws too, a fresh sample is flagged in 1-2 % of short runs; a driftless
random walk is a leak for the window it is seen in now and then (2-8 % here).
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "unit" / "analyze"))
import tracegen  # noqa: E402

from soakctl.analyze.leak import detect_leak  # noqa: E402

MIB = 1 << 20
THRESHOLD = 10 * MIB


def random_walk(gen: np.random.Generator, minutes: float, warm: bool) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    n = int(minutes * 60)
    el = np.arange(n, dtype=float)
    y = (200 * MIB + np.cumsum(gen.normal(0, gen.uniform(0.02, 0.15) * MIB, n))
         + gen.normal(0, 0.3 * MIB, n))
    if warm:
        y += gen.uniform(5, 30) * MIB * (1 - np.exp(-el / gen.uniform(20, 120)))
    return tracegen.T0 + el, y


def line(label: str, c: collections.Counter[str], n: int) -> str:
    return (f"  {label:<34} leak {c['leak']:>4}/{n} ({100 * c['leak'] / n:4.1f} %)"
            f"  inconclusive {c['inconclusive']:>4}  no_leak {c['no_leak']:>4}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--seed", type=int, default=50000)
    args = ap.parse_args()
    n = args.draws
    alarms = total = 0

    def judge(label: str, traces: Callable[[], tuple[np.ndarray, np.ndarray]]) -> None:
        nonlocal alarms, total
        c = collections.Counter[str]()
        for _ in range(n):
            t, y = traces()
            c[detect_leak("rss_bytes", t, y, THRESHOLD).status] += 1
        print(line(label, c, n))
        alarms, total = alarms + c["leak"], total + n

    def pair(tr: tracegen.Trace) -> tuple[np.ndarray, np.ndarray]:
        return tr.ts, tr.rss

    print("start-up curves:")
    for minutes in (*tracegen.STARTUP_MINUTES, 30.0, 45.0):
        rng = random.Random(args.seed + int(minutes))
        judge(f"{minutes:g} min",
              lambda rng=rng, minutes=minutes: pair(tracegen.startup_curve(rng, minutes)))
    print("spiky sawtooth, fewer than three cycles:")
    for cycles in (1.0, 1.4, 2.0, 2.6, 2.95):
        rng = random.Random(args.seed + 10_000 + int(cycles * 100))
        judge(f"{cycles:g} cycles",
              lambda rng=rng, cycles=cycles: pair(tracegen.spiky_sawtooth(rng, cycles)))
    print("random walks (no drift):")
    for minutes in (16, 20, 25, 30, 40, 60):
        for warm in (False, True):
            gen = np.random.default_rng(args.seed + 20_000 + minutes + 1000 * warm)
            label = f"{minutes} min" + (", start-up jump" if warm else "")
            judge(label,
                  lambda gen=gen, minutes=minutes, warm=warm: random_walk(gen, minutes, warm))
    print(f"false alarms overall: {alarms}/{total} ({100 * alarms / total:.1f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
