#!/usr/bin/env python3
"""The leak detector on real processes' memory, with known leaks added.

Usage: python benchmarks/bench_leak_corpus.py [--corpus DIR] [--window-min 30] [--step-min 2]
                                             [--draws 3] [--seed 1] [--show-misses 15]

The corpus (``benchmarks/corpus/*.csv.gz``, see its README) holds RSS recorded at 1 s from real
processes: a Prometheus server with 5-minute blocks being scraped, a Python process with
allocation churn, redis-server and nginx under a bounded loopback load, an aiohttp app, and
the bot and simulator under chaos faults. Every window of ``--window-min`` minutes (a new one
every ``--step-min``) is judged as recorded (the truth: no leak; a ``leak`` verdict is a false
alarm) and with ``--draws`` injected leaks of each kind at 15-50 MiB/h (the truth: leak):

* linear: the rate from the window's first sample;
* staircase: one step every 2-6 minutes, the same average rate;
* late start: linear from 20-50 % into the window.

Printed: detection rate per kind and overall, false alarms and inconclusive rate on the clean
windows (overall and per process), leaks caught per process and kind with the causes of the
misses (the verdict's reason: start-up slowing, growth given back by a drop, a CI too wide),
at the default 10 MiB/h threshold. Targets (the issue):
detection >= 95 %, false alarms <= 1 %, clean inconclusive <= 10 %.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import random
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from soakctl.analyze.leak import detect_leak  # noqa: E402

MIB = 1 << 20
THRESHOLD = 10 * MIB


def load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(path, "rt") as fh:
        data = np.loadtxt(fh, delimiter=",", skiprows=1, ndmin=2)
    return data[:, 0], data[:, 1]


def inject(kind: str, el: np.ndarray, rate_mib_per_h: float, rng: random.Random) -> np.ndarray:
    rate = rate_mib_per_h * MIB / 3600
    span = float(el[-1])
    if kind == "linear":
        return rate * el
    if kind == "staircase":
        every = rng.uniform(120, 360)
        offset = rng.uniform(0, every)
        return rate * every * np.floor((el + offset) / every)
    start = rng.uniform(0.2, 0.5) * span
    return rate * np.clip(el - start, 0, None)


def _why(status: str, reason: str) -> str:
    """A missed leak's cause in two words, from the verdict's reason."""
    if status == "no_leak":
        return "no_leak"
    for key, word in (("slows down", "slowing"), ("gives back", "given-back"),
                      ("cannot rule", "short"), ("autocorrelated", "wide-CI (autocorr.)"),
                      ("too noisy", "wide-CI"), ("need", "too-few-buckets")):
        if key in reason:
            return word
    return status


def windows(ts: np.ndarray, window_s: float, step_s: float) -> list[slice]:
    out = []
    start = float(ts[0])
    while start + window_s <= float(ts[-1]) + 1:
        a, b = np.searchsorted(ts, [start, start + window_s])
        if b - a > 0.9 * window_s:  # 1 Hz, few gaps
            out.append(slice(int(a), int(b)))
        start += step_s
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=REPO / "benchmarks" / "corpus")
    ap.add_argument("--window-min", type=float, default=30.0)
    ap.add_argument("--step-min", type=float, default=2.0)
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show-misses", type=int, default=15, help="missed leaks to list")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    files = sorted(args.corpus.glob("*.csv.gz"))
    if not files:
        print(f"no *.csv.gz in {args.corpus}", file=sys.stderr)
        return 2
    clean: dict[str, collections.Counter[str]] = {}
    caught: dict[str, list[bool]] = collections.defaultdict(list)
    caught_by: dict[str, list[bool]] = collections.defaultdict(list)
    caught_pk: dict[tuple[str, str], list[bool]] = collections.defaultdict(list)
    why_missed: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    misses: list[str] = []
    for path in files:
        name = path.name.removesuffix(".csv.gz")
        ts, rss = load(path)
        c = clean[name] = collections.Counter()
        for w in windows(ts, args.window_min * 60, args.step_min * 60):
            t, y = ts[w], rss[w]
            c[detect_leak("rss_bytes", t, y, THRESHOLD).status] += 1
            el = t - t[0]
            for kind in ("linear", "staircase", "late start"):
                for _ in range(args.draws):
                    rate = rng.uniform(15, 50)
                    res = detect_leak("rss_bytes", t, y + inject(kind, el, rate, rng), THRESHOLD)
                    caught[kind].append(res.detected)
                    caught_by[name].append(res.detected)
                    caught_pk[name, kind].append(res.detected)
                    if not res.detected:
                        why = _why(res.status, res.reason)
                        why_missed[name][why] += 1
                        misses.append(f"{name}@{(t[0] - ts[0]) / 60:.0f}min {kind} "
                                      f"{rate:.0f} MiB/h: {res.status} ({why})")
    total = collections.Counter[str]()
    print(f"windows of {args.window_min:g} min every {args.step_min:g} min, "
          f"leaks 15-50 MiB/h, threshold 10 MiB/h")
    print(f"{'process':<10} {'windows':>7} {'leak':>5} {'inconcl.':>8} {'no_leak':>7}"
          f" {'leaks caught':>13}")
    for name, c in clean.items():
        total.update(c)
        n = sum(c.values())
        hits = caught_by[name]
        print(f"{name:<10} {n:>7} {c['leak']:>5} {c['inconclusive']:>8} {c['no_leak']:>7} "
              f"{100 * sum(hits) / max(len(hits), 1):>12.1f}%")
    n = sum(total.values())
    for kind, hits in caught.items():
        print(f"detected ({kind}): {sum(hits)}/{len(hits)} ({100 * sum(hits) / len(hits):.1f} %)")
    hits_all = [h for v in caught.values() for h in v]
    print(f"detected (all): {sum(hits_all)}/{len(hits_all)} "
          f"({100 * sum(hits_all) / max(len(hits_all), 1):.1f} %)   target >= 95 %")
    print(f"false alarms: {total['leak']}/{n} ({100 * total['leak'] / max(n, 1):.1f} %)"
          f"   target <= 1 %")
    print(f"clean inconclusive: {total['inconclusive']}/{n} "
          f"({100 * total['inconclusive'] / max(n, 1):.1f} %)   target <= 10 %")
    kinds = list(caught)
    print("leaks caught by process and kind:")
    print(f"{'process':<10}" + "".join(f" {k:>11}" for k in kinds) + "  missed because")
    for name in clean:
        cells = []
        for kind in kinds:
            hits = caught_pk[name, kind]
            cells.append(f" {100 * sum(hits) / max(len(hits), 1):>10.1f}%")
        why = ", ".join(f"{k} {v}" for k, v in why_missed[name].most_common())
        print(f"{name:<10}" + "".join(cells) + f"  {why or '-'}")
    for line in misses[:args.show_misses]:
        print(f"  missed: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
