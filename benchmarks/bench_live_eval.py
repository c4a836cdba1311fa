#!/usr/bin/env python3
"""Benchmark the live evaluation (``soakctl.live_eval``): its CPU share of a 24 h @1 Hz run.

Usage: python benchmarks/bench_live_eval.py [--runs N] [--samples 86400]

86,400 synthetic samples (RSS with a GC sawtooth, noise and a 2 MiB/h drift; restarts 0; a
scraped counter and gauge; criteria from the bot-sim profile) are fed through
``LiveEvaluator.add`` one by one, and ``evaluate`` runs whenever ``due()`` says so, at the
cadence of a plain run (an estimate every minute after two: the busiest schedule; the
``abort_on_fail`` default is every 2 minutes after 10). Measured: CPU seconds of this process
(``time.process_time``) for the whole feed, divided by the 86,400 s the run would last: the
share of one core. Target: <= 1 %.

Peer, side by side in the same run: the naive way, the same detector on every raw sample so
far at the same cadence (no reduction). Medians of N runs; ratio ours/naive.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from soakctl.analyze.leak import detect_leak
from soakctl.live_eval import ESTIMATE_AFTER_S, ESTIMATE_EVERY_S, LiveEvaluator

MIB = 1 << 20
CRITERIA = ["cpu_percent.avg < 80", "zombies.max == 0", "restarts <= 0",
            "metrics.mmbot_orders_total.increase > 0", "metrics.mmbot_quoting.avg > 0.8",
            "liveness_failures == 0"]


def samples(n: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(7)
    t = 1_780_000_000.0 + np.arange(n, dtype=float)
    rss = (80 * MIB + 2 * MIB * (t - t[0]) / 3600 + 3 * MIB * ((t - t[0]) % 300) / 300
           + rng.normal(0, 0.2 * MIB, n))
    return [{"ts": float(t[i]), "rss_bytes": int(rss[i]), "cpu_percent": 4.0, "zombies": 0,
             "restarts": 0, "liveness_failures": 0,
             "metrics": {"mmbot_orders_total": float(i * 8), "mmbot_quoting": 1.0}}
            for i in range(n)]


def ours(data: list[dict[str, object]]) -> tuple[float, int]:
    live = LiveEvaluator(criteria=CRITERIA, abort=True, after_s=ESTIMATE_AFTER_S,
                         every_s=ESTIMATE_EVERY_S)
    started = time.process_time()
    for sample in data:
        live.add(sample)
        if live.due():
            live.evaluate()
    return time.process_time() - started, live.evaluations


def naive(data: list[dict[str, object]]) -> tuple[float, int]:
    ts = np.array([s["ts"] for s in data], dtype=float)
    rss = np.array([s["rss_bytes"] for s in data], dtype=float)
    started = time.process_time()
    count = 0
    next_s = ESTIMATE_AFTER_S
    for i in range(ts.size):
        if ts[i] - ts[0] >= next_s:
            next_s += ESTIMATE_EVERY_S
            detect_leak("rss_bytes", ts[: i + 1], rss[: i + 1], 10 * MIB, None)
            count += 1
    return time.process_time() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=86_400)
    args = parser.parse_args()
    data = samples(args.samples)
    run_s = float(args.samples)  # 1 Hz
    mine, theirs = [], []
    for _ in range(args.runs):
        cpu, evals = ours(data)
        mine.append(cpu)
        cpu_n, evals_n = naive(data)
        theirs.append(cpu_n)
        print(f"  run: live_eval {cpu:.2f} CPU s ({evals} evaluations), "
              f"naive {cpu_n:.2f} CPU s ({evals_n} evaluations)")
    m, n = statistics.median(mine), statistics.median(theirs)
    print(f"live evaluation, {args.samples} samples @1 Hz, an evaluation every "
          f"{ESTIMATE_EVERY_S:g}s after {ESTIMATE_AFTER_S:g}s:")
    print(f"  live_eval: {m:.2f} CPU s = {100 * m / run_s:.3f} % of one core over the run "
          f"(target <= 1 %)")
    print(f"  naive (detector on all raw samples, same cadence): {n:.2f} CPU s = "
          f"{100 * n / run_s:.3f} % of one core")
    print(f"  ratio live_eval/naive: {m / n:.2f} (medians of {args.runs} runs)")


if __name__ == "__main__":
    main()
