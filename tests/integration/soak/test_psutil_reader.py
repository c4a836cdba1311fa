"""The psutil reader (the Windows path; here checked on Linux against real processes): a tree
walk finds the same members as procfs, the parent map is shared within one walk, and the
sampler's fields (handles/fds, USS-equivalent, working set) come out on every platform."""

from __future__ import annotations

import contextlib
import subprocess
import sys

import psutil

from soakctl.procfs import PsutilProcReader, default_reader
from soakctl.proctree import ProcessTree
from soakctl.sample import ProcessTreeSampler
from tests.integration.soak.conftest import wait_for

PARENT = [sys.executable, "-c",
          "import subprocess, sys, time\n"
          "kids = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
          " stdin=subprocess.DEVNULL) for _ in range(3)]\n"
          "print(' '.join(str(k.pid) for k in kids), flush=True)\n"
          "time.sleep(600)\n"]


def test_psutil_tree_walk_matches_and_samples_every_field() -> None:
    proc = subprocess.Popen(PARENT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    kids: set[int] = set()
    try:
        assert proc.stdout is not None
        kids = {int(p) for p in proc.stdout.readline().split()}
        reader = PsutilProcReader()
        assert set(reader.children(proc.pid)) == kids
        assert set(default_reader().children(proc.pid)) == kids  # procfs on Linux agrees
        assert reader.children(next(iter(kids))) == []
        tree = ProcessTree(reader, proc.pid)
        sampler = ProcessTreeSampler(reader, tree, uss_every=1)
        sample = wait_for(lambda: (s := sampler.sample())["num_procs"] == 4 and s,
                          timeout=30, what="the whole tree in a sample")
        assert set(tree.pids()) == kids | {proc.pid}
        assert sample["num_fds"] >= 4 * 3  # stdin/out/err at least, or handles on Windows
        assert sample["uss_bytes"] > 0 and sample["rss_bytes"] > 0
        assert sample["num_threads"] >= 4
    finally:
        for pid in kids:
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()
        proc.kill()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
