#!/usr/bin/env python3
"""Benchmark ``soakctl analyze --prometheus`` on a week of a 10-series fleet.

Usage: python benchmarks/bench_prometheus.py [--runs N] [--series 10] [--days 7] [--step 15]

A local HTTP server (in this process, a thread) answers ``/api/v1/query_range`` like Prometheus
does, from a generated recording: 10 series of 7 days at a 15 s step (40,320 points per series;
RSS-like values with a GC sawtooth and noise, three of them leaking), sliced to each requested
page and serialised in Prometheus' JSON form (values as strings). The server's own time per
request is measured and subtracted, so the figure is soakctl's cost: process start, the paged
queries (4 pages here, under the 11,000-points limit), parsing, the leak analysis of every
series, criteria and the four output files.

Peer, side by side and alternating: the naive script a user would write, ``urllib`` +
``json`` + ``pandas.DataFrame`` per page, ``pandas.concat`` and ``numpy.polyfit`` per series
(a slope, no robustness), in a fresh interpreter too. Prints medians of N runs and the ratio.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import orjson

MIB = 1 << 20
END = 1_780_000_000.0
NAIVE = r"""
import json, sys, urllib.parse, urllib.request
import numpy as np, pandas as pd
url, query, start, end, step = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:6])
frames, t = [], start
while t <= end:
    e = min(t + 10_999 * step, end)
    qs = urllib.parse.urlencode({"query": query, "start": t, "end": e, "step": step})
    body = json.loads(urllib.request.urlopen(f"{url}/api/v1/query_range?{qs}").read())
    for s in body["data"]["result"]:
        df = pd.DataFrame(s["values"], columns=["ts", "v"]).astype(float)
        df["series"] = json.dumps(s["metric"], sort_keys=True)
        frames.append(df)
    t = e + step
data = pd.concat(frames)
for name, g in data.groupby("series"):
    slope = np.polyfit(g["ts"], g["v"], 1)[0] * 3600 / 2**20
    print(name, round(slope, 3))
"""


def recording(n_series: int, days: float, step_s: float) -> tuple[np.ndarray, list[dict]]:
    rng = np.random.default_rng(7)
    ts = END - np.arange(int(days * 86400 / step_s), -1, -1) * step_s
    out = []
    for i in range(n_series):
        leak_mib_h = (5.0 * (i + 1)) if i % 3 == 0 else 0.0
        base = (150 + 20 * i) * MIB
        saw = (np.mod(ts, 600.0) / 600.0) * 8 * MIB
        values = base + saw + rng.normal(0, 0.5 * MIB, ts.size) + leak_mib_h * MIB * (
            ts - ts[0]) / 3600
        out.append({"metric": {"__name__": "process_resident_memory_bytes", "job": "mmbot",
                               "instance": f"bot-{i}:9464"}, "values": values})
    return ts, out


class Recorded(BaseHTTPRequestHandler):
    ts: np.ndarray
    series: list[dict]
    server_s = 0.0
    requests = 0

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, params: dict[str, list[str]]) -> None:
        t0 = time.perf_counter()
        start, end = float(params["start"][0]), float(params["end"][0])
        lo, hi = np.searchsorted(self.ts, [start - 1e-6, end + 1e-6])
        t = self.ts[lo:hi].tolist()
        result = [{"metric": s["metric"], "values": [
                      [a, repr(b)] for a, b in zip(t, s["values"][lo:hi].tolist(), strict=True)]}
                  for s in self.series]
        body = orjson.dumps({"status": "success",
                             "data": {"resultType": "matrix", "result": result}})
        type(self).server_s += time.perf_counter() - t0
        type(self).requests += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        t1 = time.perf_counter()
        self.wfile.write(body)
        type(self).server_s += time.perf_counter() - t1

    def do_GET(self) -> None:
        self._answer(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        self._answer(urllib.parse.parse_qs(raw.decode()))


def timed(argv: list[str]) -> tuple[float, float, int, float]:
    """(wall minus server time, server time, requests, the child's CPU seconds)."""
    Recorded.server_s, Recorded.requests = 0.0, 0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, timeout=600, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        sys.exit(f"failed: {' '.join(argv)}\n{proc.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall - Recorded.server_s, Recorded.server_s, Recorded.requests, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--series", type=int, default=10)
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--step", type=float, default=15.0)
    args = ap.parse_args()
    Recorded.ts, Recorded.series = recording(args.series, args.days, args.step)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorded)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    soakctl = str(Path(sys.executable).parent / "soakctl")
    query = "process_resident_memory_bytes"
    start = END - args.days * 86400
    ours_s, naive_s, srv, ours_cpu, naive_cpu = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        ours_argv = [soakctl, "analyze", "--prometheus", url, "--query", query, "--since",
                     f"{args.days * 86400:g}s", "--until", f"{END:g}", "--step",
                     f"{args.step:g}s", "--out", tmp, "--json"]
        naive_argv = [sys.executable, "-c", NAIVE, url, query, str(start), str(END),
                      str(args.step)]
        for _ in range(args.runs):
            o, s, n, c = timed(ours_argv)
            ours_s.append(o)
            srv.append(s)
            ours_cpu.append(c)
            o, _s, _n, c = timed(naive_argv)
            naive_s.append(o)
            naive_cpu.append(c)
        doc = orjson.loads((Path(tmp) / "analysis.json").read_bytes())
    server.shutdown()
    points = Recorded.ts.size
    o, p = statistics.median(ours_s), statistics.median(naive_s)
    print(f"{args.series} series x {points:,} points ({args.days:g} d at {args.step:g} s), "
          f"{n} pages; server time excluded (median {statistics.median(srv):.2f} s)")
    oc, pc = statistics.median(ours_cpu), statistics.median(naive_cpu)
    print(f"soakctl analyze --prometheus: {o:.2f} s wall, {oc:.2f} s CPU, medians of "
          f"{args.runs} (target <= 3 s)")
    print(f"naive urllib+pandas+polyfit : {p:.2f} s wall, {pc:.2f} s CPU; ratio ours/naive "
          f"{o / p:.2f} wall, {oc / pc:.2f} CPU")
    verdicts = [s["leak"]["status"] for s in doc["series"]]
    print(f"verdict {doc['verdict']}; leak statuses: {verdicts}")


if __name__ == "__main__":
    main()
