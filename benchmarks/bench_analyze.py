#!/usr/bin/env python3
"""Benchmark ``soakctl analyze`` against the naive pipeline, and its time to detect a leak.

Usage: python benchmarks/bench_analyze.py [--runs N] [--skip-million] [--skip-detect]

1. 86,400 full samples (every SPEC §4 field plus three scraped metrics; a 24 h run at 1 Hz):
   ``soakctl analyze FILE --out DIR`` end to end (process start, load, leak analysis of every
   series, criteria, analysis.json, report.html, summary.md, junit.xml) side by side with the
   naive pipeline ``pandas.read_json(lines=True)`` + ``numpy.polyfit`` on the same file, each in
   a fresh interpreter, alternating; medians of N runs and the ratio ours/naive.
2. 1,000,000 samples: wall time and peak RSS (``ru_maxrss`` of the child) of the same command.
3. Time to detect: 20 MiB/h leaks under the dev set's GC sawtooth at 1 Hz, and the same traces
   without the leak, cut after 10…120 minutes: detection rate and false-alarm rate per length.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "unit" / "analyze"))
import tracegen  # noqa: E402

from soakctl.analyze.leak import detect_leak  # noqa: E402

MIB = 1 << 20
BIN = Path(sys.executable).parent
NAIVE = """
import sys, numpy as np, pandas as pd
df = pd.read_json(sys.argv[1], lines=True)
slope = np.polyfit(df["ts"] - df["ts"].iloc[0], df["rss_bytes"], 1)[0] * 3600 / 2**20
print(f"{slope:.3f} MiB/h")
"""


def write_full(path: Path, n: int, seed: int = 1) -> None:
    """``n`` 1 Hz samples with every SPEC §4 field, a slow leak and GC sawtooth, in chunks."""
    gen = np.random.default_rng(seed)
    t0 = 1_780_000_000.0
    with path.open("wb") as fh:
        for start in range(0, n, 50_000):
            i = np.arange(start, min(n, start + 50_000))
            el = i.astype(float)
            rss = (200 * MIB + 5 * MIB * el / 3600 + 40 * MIB * ((el % 300) / 300)
                   + gen.normal(0, MIB, i.size)).astype(np.int64)
            lines = []
            for k, e in enumerate(el.tolist()):
                lines.append(orjson.dumps({
                    "ts": round(t0 + e, 3), "elapsed_s": e, "name": "target", "pid": 4242,
                    "num_procs": 3, "rss_bytes": int(rss[k]), "vms_bytes": int(rss[k]) * 3,
                    "uss_bytes": int(rss[k] * 0.8), "cpu_percent": round(20 + 5 * math.sin(e), 1),
                    "num_threads": 12, "num_fds": 40 + int(e) % 3, "zombies": 0,
                    "io_read_bytes": int(e) * 100, "io_write_bytes": int(e) * 400,
                    "sys_cpu_percent": 35.5, "sys_mem_available_bytes": 8 << 30,
                    "disk_free_bytes": 100 << 30, "log_bytes": int(e) * 80, "restarts": 0,
                    "metrics": {"mmbot_open_orders": 4 + int(e) % 2, "ws_reconnect_attempts_total":
                                int(e) // 600, "mmbot_queue_depth": int(e) % 7},
                }))
            fh.write(b"\n".join(lines) + b"\n")


def _child(argv: list[str]) -> tuple[float, int, int]:
    """Run ``argv``; (wall seconds, peak RSS bytes, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss * 1024, proc.returncode


def bench_day(tmp: Path, runs: int) -> None:
    path = tmp / "day.jsonl"
    write_full(path, 86_400)
    ours_cmd = [str(BIN / "soakctl"), "analyze", str(path), "--out", str(tmp / "out")]
    naive_cmd = [sys.executable, "-c", NAIVE, str(path)]
    ours, naive = [], []
    for _ in range(runs):
        wall, _rss, rc = _child(ours_cmd)
        assert rc in (0, 1), rc
        ours.append(wall)
        wall, _rss, rc = _child(naive_cmd)
        assert rc == 0, rc
        naive.append(wall)
    o, p = statistics.median(ours), statistics.median(naive)
    size = path.stat().st_size / MIB
    print(f"86,400 full samples ({size:.0f} MiB): soakctl analyze {o:.2f} s (end to end, report "
          f"included; runs {', '.join(f'{x:.2f}' for x in ours)}), naive read_json+polyfit "
          f"{p:.2f} s; ratio {o / p:.2f}  [limit 1.5 s, ratio <= 1.0]")
    report = tmp / "out" / "report.html"
    print(f"  report.html {report.stat().st_size / 1024:.0f} KiB")


def bench_million(tmp: Path, runs: int) -> None:
    path = tmp / "million.jsonl"
    write_full(path, 1_000_000)
    cmd = [str(BIN / "soakctl"), "analyze", str(path), "--out", str(tmp / "out1m")]
    results = [_child(cmd) for _ in range(runs)]
    wall = statistics.median(r[0] for r in results)
    peak = max(r[1] for r in results) / MIB
    print(f"1,000,000 samples ({path.stat().st_size / MIB:.0f} MiB): {wall:.2f} s median, "
          f"peak RSS {peak:.0f} MiB  [limits 10 s, 400 MB]")


def bench_detect(traces: int) -> None:
    print("time to detect 20 MiB/h under GC sawtooth at 1 Hz "
          f"({traces} leaking + {traces} clean traces per length):")
    for minutes in (10, 20, 30, 40, 50, 60, 90, 120):
        rng = random.Random(minutes)
        hit = fa = inconclusive = 0
        for _ in range(traces):
            seed = rng.randrange(1 << 30)
            for slope in (20.0, 0.0):
                tr = tracegen.sawtooth(random.Random(seed), minutes, slope)
                res = detect_leak("rss_bytes", tr.ts, tr.rss, 10 * MIB)
                hit += slope > 0 and res.detected
                fa += slope == 0 and res.detected
                inconclusive += slope == 0 and res.status == "inconclusive"
        print(f"  {minutes:4d} min: detected {hit / traces:6.1%}, false alarms {fa / traces:5.1%}"
              f" (clean traces inconclusive {inconclusive / traces:5.1%})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--traces", type=int, default=100)
    ap.add_argument("--skip-million", action="store_true")
    ap.add_argument("--skip-detect", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_analyze_") as tmp:
        bench_day(Path(tmp), args.runs)
        if not args.skip_million:
            bench_million(Path(tmp), max(1, args.runs // 2))
    if not args.skip_detect:
        bench_detect(args.traces)


if __name__ == "__main__":
    main()
