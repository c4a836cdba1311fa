#!/usr/bin/env python3
"""What ``mmbot run --tracemalloc`` costs: the bot's CPU and memory with and without it.

Usage: python benchmarks/bench_tracemalloc.py [--seconds 60] [--runs 3]

Each round soaks the real bot against the real simulator with ``soakctl run`` (the bundled
bot-sim profile, its diagnosis on: three snapshots via ``/debug/tracemalloc``) twice, once with
``MMBOT_TRACEMALLOC=1`` and once without, alternating which goes first. From each run's
``analysis.json``: the bot's average CPU (% of one core), its RSS at the end, and the orders it
sent (the work done, so CPU per 1000 orders compares like with like). Peer: the same bot
without tracing, side by side. Medians of N rounds; ratios traced/untraced.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def soak(seconds: float, traced: bool, out: Path) -> dict[str, float]:
    profile = yaml.safe_load((REPO / "workflows" / "bot-sim.yaml").read_text())
    profile["name"] = "bench-tracemalloc"
    env = profile["target"]["env"]
    env["MMBOT_TRACEMALLOC"] = "1" if traced else "0"
    if not traced:
        profile.pop("tracemalloc_url", None)
    path = out / f"profile-{int(traced)}.yaml"
    path.write_text(yaml.safe_dump(profile))
    proc = subprocess.run(
        [str(BIN / "soakctl"), "run", "--profile", str(path), "--duration", f"{seconds}s",
         "--out", str(out / "runs")],
        capture_output=True, text=True, timeout=seconds + 300,
        env=dict(os.environ, CI="true", PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}"),
        check=False,
    )
    run_dir = Path(proc.stdout.splitlines()[0])
    data = json.loads((run_dir / "analysis.json").read_text())
    stats = data["stats"]
    orders = next(c["value"] for c in data["criteria"]
                  if c["expr"].startswith("metrics.mmbot_orders_total.increase"))
    return {"cpu": stats["cpu_percent"]["avg"], "rss_mib": stats["rss_bytes"]["last"] / 2**20,
            "orders": orders or 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            for traced in ((True, False) if i % 2 == 0 else (False, True)):
                r = soak(args.seconds, traced, Path(tmp))
                results[traced].append(r)
                print(f"  {'traced  ' if traced else 'untraced'}: cpu {r['cpu']:.2f} %  "
                      f"rss {r['rss_mib']:.1f} MiB  orders {r['orders']:.0f}")

    def med(traced: bool, key: str) -> float:
        return statistics.median(r[key] for r in results[traced])

    def per_k(traced: bool) -> float:
        return statistics.median(1000 * r["cpu"] / max(r["orders"], 1) for r in results[traced])

    print(f"mmbot vs simulator, {args.seconds:g} s soaks, medians of {args.runs}:")
    for traced in (False, True):
        print(f"  {'--tracemalloc' if traced else 'untraced     '}: CPU {med(traced, 'cpu'):.2f} % "
              f"of a core, RSS {med(traced, 'rss_mib'):.1f} MiB, "
              f"{med(traced, 'orders'):.0f} orders, CPU per 1000 orders {per_k(traced):.3f}")
    print(f"  ratio traced/untraced: CPU {med(True, 'cpu') / med(False, 'cpu'):.2f}, "
          f"RSS {med(True, 'rss_mib') / med(False, 'rss_mib'):.2f}, "
          f"CPU per order {per_k(True) / per_k(False):.2f}")


if __name__ == "__main__":
    main()
