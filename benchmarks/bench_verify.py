#!/usr/bin/env python3
"""Wall time of `soakctl verify` with every built-in check, simulator up, audit service down.

Usage:
  python benchmarks/bench_verify.py [--runs 7]

Starts a real `mmbot sim --port 0` (with a credentials directory), writes a profile whose
target is `mmbot run`, points verify at the simulator (`--exchange-url`) and makes the
vulnerability service unreachable (HTTPS_PROXY to a closed local port: what a runner without
pypi.org access sees, reproducibly). Then runs `soakctl verify --json` N times, end to end
(interpreter start-up included), and prints the median wall time, the slowest check of the
median run, and the ratio to the issue-5 budget of 3 s. The peer, measured in the same loop,
is `soakctl --version`: the CLI's fixed start-up cost.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.sim import harness

BIN = Path(sys.executable).parent
SOAKCTL = str(BIN / "soakctl")
MMBOT = str(BIN / "mmbot")
BUDGET_S = 3.0


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sim(workdir: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    try:
        sim = harness.start_sim(workdir, mmbot=MMBOT, log=False)
    except harness.SimStartError as exc:
        sys.exit(str(exc))
    return sim.proc, sim.urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        workdir = Path(tmp)
        sim, ready = start_sim(workdir)
        try:
            profile = workdir / "bot.yaml"
            profile.write_text(
                "name: bench\nduration: 1h\n"
                "target: {command: [mmbot, run], env: {MMBOT_METRICS_PORT: '0'}}\n"
                "logs: {max_bytes: 10MB, keep: 3}\ndisk: {min_free: 100MB}\n"
            )
            env = {
                **os.environ,
                "CI": "true",
                "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                "MMBOT_CREDENTIALS_DIR": str(workdir / "creds"),
                "HTTPS_PROXY": f"http://127.0.0.1:{closed_port()}",
            }
            argv = [
                SOAKCTL,
                "verify",
                "--profile",
                str(profile),
                "--exchange-url",
                ready["rest_url"],
                "--json",
            ]
            walls: list[float] = []
            peers: list[float] = []
            runs: list[dict[str, object]] = []
            for run in range(args.runs):
                started = time.perf_counter()
                proc = subprocess.run(
                    argv,
                    capture_output=True,
                    text=True,
                    env=env,
                    cwd=workdir,
                    timeout=120,
                    check=False,
                )
                walls.append(time.perf_counter() - started)
                payload = json.loads(proc.stdout)
                runs.append(payload)
                started = time.perf_counter()
                subprocess.run(
                    [SOAKCTL, "--version"], capture_output=True, env=env, timeout=60, check=True
                )
                peers.append(time.perf_counter() - started)
                statuses = [c["status"] for c in payload["checks"]]
                print(
                    f"run {run + 1}: {walls[-1]:.3f}s exit {proc.returncode} "
                    f"({statuses.count('pass')} pass, {statuses.count('warn')} warn, "
                    f"{statuses.count('fail')} fail, {statuses.count('skip')} skip)",
                    flush=True,
                )
        finally:
            sim.terminate()
            sim.wait(timeout=15)

    median = statistics.median(walls)
    middle = runs[walls.index(sorted(walls)[len(walls) // 2])]
    checks = middle["checks"]
    assert isinstance(checks, list)
    slowest = max(checks, key=lambda c: c["duration_s"])
    print()
    print(
        f"soakctl verify, {len(checks)} checks, {args.runs} runs: median wall {median:.3f} s "
        f"(min {min(walls):.3f}, max {max(walls):.3f})"
    )
    print(f"slowest check of the median run: {slowest['name']} {slowest['duration_s']:.3f} s")
    print(f"peer `soakctl --version` (start-up only): median {statistics.median(peers):.3f} s")
    print(f"ratio to the {BUDGET_S:g} s budget: {median / BUDGET_S:.2f}  (target <= 1.0)")
    for check in checks:
        print(
            f"  {check['status']:4}  {check['name']:17} {check['duration_s']:.3f}s  "
            f"{check['message'][:70]}"
        )


if __name__ == "__main__":
    main()
