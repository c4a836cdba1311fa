#!/usr/bin/env python3
"""``soakctl plan`` against the measured time to detect, and its cost on a 24 h run.

Usage: python benchmarks/bench_plan.py [--draws 20] [--skip-24h]

1. Per synthetic family (quiet, noisy, 10-min 100 MiB sawtooth, 3-min GC sawtooth, heavy-tailed
   spikes, warm-up then flat), the planner learns from one clean hour at 1 Hz and answers
   "how long to catch 20 MiB/h with 95 % power". The truth is measured by brute force: fresh
   traces of the family with the leak, cut at the planner's grid lengths (180 s × 1.2^k); the
   shortest length caught in >= 95 % of ``--draws`` traces with no alarm on as many clean
   ones. Printed: both and the ratio planned/measured (the planner's error).
2. ``soakctl plan FILE --leak 20MiB/h --json`` on a 24 h run at 1 Hz (86,400 samples), wall
   time end to end, median of 3 (the target is <= 30 s).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from soakctl.analyze.leak import detect_leak  # noqa: E402
from soakctl.analyze.plan import GRID_FACTOR, MIN_DURATION_S, plan  # noqa: E402

MIB = 1 << 20
THRESHOLD = 10 * MIB
RATE = 20.0
Family = Callable[[int, int, float], tuple[np.ndarray, np.ndarray]]


def _base(seconds: int, seed: int, rate: float) -> tuple[np.ndarray, np.ndarray,
                                                         np.random.Generator]:
    gen = np.random.default_rng(seed)
    t = 1.78e9 + np.arange(float(seconds))
    return t, 150 * MIB + rate * MIB * (t - t[0]) / 3600, gen


def quiet(n: int, seed: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    t, y, g = _base(n, seed, rate)
    return t, y + g.normal(0, 1.5 * MIB, n)


def noisy(n: int, seed: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    t, y, g = _base(n, seed, rate)
    return t, y + g.normal(0, 8 * MIB, n)


def saw_10min(n: int, seed: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    t, y, g = _base(n, seed, rate)
    el = t - t[0] + g.uniform(0, 600)
    return t, y + 100 * MIB * (el % 600) / 600 + g.normal(0, 1.5 * MIB, n)


def gc_3min(n: int, seed: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    t, y, g = _base(n, seed, rate)
    el = t - t[0] + g.uniform(0, 180)
    return t, y + 40 * MIB * (el % 180) / 180 + g.normal(0, 1.5 * MIB, n)


def spiky(n: int, seed: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    t, y, g = _base(n, seed, rate)
    spikes = (g.random(n) < 0.02) * (g.pareto(1.5, n) + 1) * 20 * MIB
    return t, y + spikes + g.normal(0, 2 * MIB, n)


def warmup(n: int, seed: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    t, y, g = _base(n, seed, rate)
    return t, y + 100 * MIB * (1 - np.exp(-(t - t[0]) / 300)) + g.normal(0, 1.5 * MIB, n)


FAMILIES: dict[str, Family] = {"quiet": quiet, "noisy": noisy, "sawtooth 10m 100MiB": saw_10min,
                               "GC sawtooth 3m": gc_3min, "spiky": spiky, "warm-up": warmup}


def measured(family: Family, draws: int) -> float | None:
    length = MIN_DURATION_S
    while length <= 48 * 3600:
        n = int(length)
        misses = alarms = 0
        for s in range(draws):
            misses += not detect_leak("rss_bytes", *family(n, 1000 + s, RATE), THRESHOLD).detected
            if misses > 0.05 * draws:
                break
        if misses <= 0.05 * draws:
            alarms = sum(detect_leak("rss_bytes", *family(n, 5000 + s, 0.0), THRESHOLD).detected
                         for s in range(draws))
            if alarms == 0:
                return length
        length *= GRID_FACTOR
    return None


def bench_24h() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resources.jsonl"
        t, y = saw_10min(86_400, 7, 0.0)
        path.write_bytes(b"\n".join(orjson.dumps({"ts": a, "rss_bytes": int(b)})
                                    for a, b in zip(t.tolist(), y.tolist(), strict=True)) + b"\n")
        soakctl = str(Path(sys.executable).parent / "soakctl")
        times = []
        for _ in range(3):
            start = time.perf_counter()
            proc = subprocess.run([soakctl, "plan", str(path), "--leak", "20MiB/h", "--json"],
                                  capture_output=True, text=True, timeout=600)
            times.append(time.perf_counter() - start)
        out = orjson.loads(proc.stdout)
        print(f"24 h @1 Hz (86,400 samples, 10-min sawtooth): plan {statistics.median(times):.1f} s"
              f" median of 3 ({', '.join(f'{x:.1f}' for x in times)}); answer "
              f"{out['min_duration_s']} s, target <= 30 s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--skip-24h", action="store_true")
    args = ap.parse_args()
    print(f"leak {RATE:g} MiB/h, power 0.95, threshold 10 MiB/h; planner learns from 1 clean hour")
    print(f"{'family':<22} {'planned':>9} {'measured':>9} {'ratio':>6} {'plan time':>9}")
    ratios = []
    for name, family in FAMILIES.items():
        start = time.perf_counter()
        result = plan(*family(3600, 1, 0.0), RATE * MIB, threshold_per_h=THRESHOLD)
        took = time.perf_counter() - start
        truth = measured(family, args.draws)
        got = result.min_duration_s
        ratio = got / truth if got and truth else float("nan")
        ratios.append(ratio)
        print(f"{name:<22} {got or float('nan'):>8.0f}s {truth or float('nan'):>8.0f}s "
              f"{ratio:>6.2f} {took:>8.1f}s", flush=True)
    finite = [abs(np.log(r)) for r in ratios if np.isfinite(r)]
    if finite:
        print(f"planner error: median |log ratio| {statistics.median(finite):.2f} "
              f"(x{np.exp(statistics.median(finite)):.2f}), worst x{np.exp(max(finite)):.2f}")
    if not args.skip_24h:
        bench_24h()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
