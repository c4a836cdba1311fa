"""Test target: writes N numbered lines to stdout and to stderr, interleaved, then exits 0."""

import sys

n = int(sys.argv[1])
out = sys.stdout
err = sys.stderr
for i in range(n):
    out.write(f"out {i:07d} the quick brown fox\n")
    err.write(f"err {i:07d} jumps over the lazy dog\n")
out.flush()
err.flush()
