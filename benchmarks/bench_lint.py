#!/usr/bin/env python3
"""`soakctl logs lint` throughput and peak RSS, side by side with `LC_ALL=C grep -c -P`.

Usage:
  python benchmarks/bench_lint.py [--size-gb 2] [--runs 5] [--dir DIR] [--keep]

Writes a log of realistic ASCII lines (~110 bytes) of the given size with three non-ASCII
bytes near the end, and a second file holding one 100 MB line. Warms the page cache, then for
each run times, one after the other on the same file:
  * `soakctl logs lint FILE --json` (the whole CLI: interpreter start-up included),
  * `LC_ALL=C grep -c -P '[^\\x00-\\x7F]' FILE` (the peer named in issue 5),
and reads each process's peak RSS from wait4(). Prints the medians, the throughput in GB/s
(1e9 bytes) and the time ratio soakctl / grep. Also times the lint core in-process.
Targets (issue 5): >= 1 GB/s warm, ratio <= 1.0, peak RSS <= 64 MB on both files.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
SOAKCTL = str(BIN / "soakctl")
LINE = (
    b"2026-11-24T12:00:00.123456Z INFO mmbot.strategy quote bid=95000.1 ask=95000.2 "
    b"qty=0.001 spread_bps=1.05 seq=%08d\n"
)


def write_log(path: Path, size_bytes: int) -> None:
    block = b"".join(LINE % i for i in range(20_000))
    with path.open("wb") as out:
        written = 0
        while written < size_bytes - len(block):
            out.write(block)
            written += len(block)
        out.write(b"price 3\xe2\x82\xac last line\n")  # cols 8-10 of the last line


def write_long_line(path: Path, line_bytes: int) -> None:
    chunk = b"z" * (1 << 20)
    with path.open("wb") as out:
        out.write(b"head\n")
        for _ in range(line_bytes // len(chunk)):
            out.write(chunk)
        out.write(chunk[: line_bytes % len(chunk)])
        out.write(b"\ntail\n")


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit code) of one run, RSS from wait4's rusage."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def check_findings(big: Path, long_line: Path) -> None:
    """The CLI's findings on both files are exactly the planted ones."""
    out = subprocess.run(
        [SOAKCTL, "logs", "lint", str(big), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    payload = json.loads(out.stdout)
    lines = payload["files"][0]["lines"]
    found = [(f["line"], f["col"], f["kind"]) for f in payload["findings"]]
    assert found == [(lines, col, "non_ascii") for col in (8, 9, 10)], found
    out = subprocess.run(
        [SOAKCTL, "logs", "lint", str(long_line), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    (finding,) = json.loads(out.stdout)["findings"]
    assert (finding["line"], finding["kind"], finding["length"]) == (2, "long_line", 100_000_000)
    print(f"findings correct: 3 non-ASCII bytes on line {lines:,}; one 100 MB line", flush=True)


def warm(path: Path) -> None:
    with path.open("rb") as handle:
        while handle.read(16 << 20):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    if shutil.which("grep") is None:
        sys.exit("grep not found")
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="bench-lint-"))
    workdir.mkdir(parents=True, exist_ok=True)
    big, long_line = workdir / "big.log", workdir / "long-line.log"
    size = int(args.size_gb * 1e9)
    try:
        if not big.exists() or abs(big.stat().st_size - size) > 1e6:
            print(f"writing {size / 1e9:.1f} GB to {big} ...", flush=True)
            write_log(big, size)
        if not long_line.exists():
            write_long_line(long_line, 100 * 1000 * 1000)
        size = big.stat().st_size
        warm(big)
        warm(long_line)
        check_findings(big, long_line)
        grep_env = {**os.environ, "LC_ALL": "C"}
        lint_t, grep_t, lint_rss = [], [], []
        for run in range(args.runs):
            wall, rss, code = timed([SOAKCTL, "logs", "lint", str(big), "--json"])
            assert code == 1, f"lint should report the non-ASCII bytes (exit {code})"
            lint_t.append(wall)
            lint_rss.append(rss)
            gwall, _grss, gcode = timed(["grep", "-c", "-P", r"[^\x00-\x7F]", str(big)], grep_env)
            assert gcode == 0, f"grep exit {gcode}"
            grep_t.append(gwall)
            print(
                f"run {run + 1}: soakctl {wall:.3f}s ({rss:.0f} MB)  grep {gwall:.3f}s", flush=True
            )
        long_rss = [timed([SOAKCTL, "logs", "lint", str(long_line)])[1] for _ in range(3)]

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from soakctl.logtools.lint import lint_paths

        core_t = []
        for _ in range(args.runs):
            started = time.perf_counter()
            lint_paths([big])
            core_t.append(time.perf_counter() - started)

        lint_med, grep_med = statistics.median(lint_t), statistics.median(grep_t)
        print()
        print(f"file: {size / 1e9:.2f} GB, warm page cache, {args.runs} runs, medians")
        print(
            f"soakctl logs lint (CLI): {lint_med:.3f} s = {size / lint_med / 1e9:.2f} GB/s, "
            f"peak RSS {max(lint_rss):.0f} MB"
        )
        print(
            f"lint core in-process:    {statistics.median(core_t):.3f} s = "
            f"{size / statistics.median(core_t) / 1e9:.2f} GB/s"
        )
        print(f"LC_ALL=C grep -c -P:     {grep_med:.3f} s = {size / grep_med / 1e9:.2f} GB/s")
        print(f"time ratio soakctl/grep: {lint_med / grep_med:.2f}  (target <= 1.0)")
        print(f"100 MB line file: peak RSS {max(long_rss):.0f} MB  (target <= 64 MB)")
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
