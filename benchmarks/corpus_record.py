#!/usr/bin/env python3
"""Pack ``soakctl monitor`` recordings into the leak corpus: ts + rss_bytes, gzip'd CSV.

Usage: python benchmarks/corpus_record.py NAME=monitor.jsonl [NAME=FILE ...] [--out DIR]

Each recording becomes ``DIR/NAME.csv.gz`` (default ``benchmarks/corpus``) with the header
``ts,rss_bytes`` and one line per sample: the only two fields the leak benchmark needs, so an
hour at 1 s is ~20 KiB. How the recordings were made is in ``benchmarks/corpus/README.md``.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from soakctl.analyze.loader import load_samples  # noqa: E402


def pack(src: Path, dst: Path) -> int:
    cols = load_samples(src).columns
    ts, rss = cols["ts"], cols["rss_bytes"]
    lines = ["ts,rss_bytes"] + [f"{t:.3f},{int(r)}" for t, r in zip(ts.tolist(), rss.tolist(),
                                                                       strict=True) if r == r]
    dst.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), 9, mtime=0))
    return len(lines) - 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("items", nargs="+", metavar="NAME=FILE")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "corpus")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for item in args.items:
        name, _, src = item.partition("=")
        n = pack(Path(src), args.out / f"{name}.csv.gz")
        print(f"{name}: {n} samples -> {args.out / (name + '.csv.gz')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
