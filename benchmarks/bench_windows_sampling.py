#!/usr/bin/env python3
"""Cost of one sample of a 20-process tree on the psutil path (the Windows path), side by side
with the per-sample work psrecord does, in one run.

Usage:
  python benchmarks/bench_windows_sampling.py [--procs 20] [--samples 50] [--runs 5]

Starts a tree of ``--procs`` Python processes (a root and its children; on Windows inside a
kill-on-close job object, whose member list soakctl reads every sample), then times, per
sample, in this process:

* ``soakctl`` : ``ProcessTreeSampler.sample()`` with ``PsutilProcReader`` (+ the job's pid list
  on Windows): every SPEC field, handles as ``num_fds``, private bytes as ``uss_bytes`` every
  10th sample (the ``soakctl run`` default);
* ``soakctl uss=1`` : the same with the USS-equivalent read on every sample;
* ``psrecord`` : what ``psrecord PID --include-children`` does per interval:
  ``children(recursive=True)``, then ``cpu_percent()`` and ``memory_info()`` of each process
  (4 numbers, where soakctl records ~18 fields);
* on Windows also ``memory_full_info().uss`` vs ``memory_info().private`` over the tree: why
  soakctl reports private bytes as the USS equivalent there.

Prints the median milliseconds per sample over ``--runs`` runs, the CPU share of one core at
1 Hz, and the ratio soakctl / psrecord. The Windows CI job runs it; the machine is shared, so
compare the figures of one run with each other, not across runs.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from soakctl import winjob
from soakctl.procfs import PsutilProcReader
from soakctl.proctree import ProcessTree
from soakctl.sample import ProcessTreeSampler

ROOT = ("import subprocess, sys, time\n"
        "n = int(sys.argv[1])\n"
        "kids = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)'],"
        " stdin=subprocess.DEVNULL) for _ in range(n)]\n"
        "print('ready', flush=True)\n"
        "time.sleep(3600)\n")


def start_tree(procs: int, jobs: winjob.JobSet) -> subprocess.Popen[bytes]:
    flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    kwargs = jobs.popen_kwargs({"creationflags": flags} if flags else {})
    root = subprocess.Popen([sys.executable, "-c", ROOT, str(procs - 1)], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, **kwargs)
    jobs.admit("tree", root)
    assert root.stdout is not None
    if root.stdout.readline().strip() != b"ready":
        raise RuntimeError("tree did not start")
    deadline = time.monotonic() + 30
    while len(psutil.Process(root.pid).children(recursive=True)) < procs - 1:
        if time.monotonic() > deadline:
            raise RuntimeError("tree did not start")
        time.sleep(0.05)
    return root


def stop_tree(root: subprocess.Popen[bytes], jobs: winjob.JobSet) -> None:
    members = [root.pid, *(c.pid for c in psutil.Process(root.pid).children(recursive=True))]
    jobs.close()
    for pid in members:
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()
    root.wait(timeout=30)
    if root.stdout is not None:
        root.stdout.close()


def per_sample_ms(fn: Callable[[], object], samples: int) -> float:
    fn()  # warm caches (Process objects, imports), as in a running soak
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def soakctl_sampler(root: int, jobs: winjob.JobSet, uss_every: int) -> Callable[[], object]:
    reader = PsutilProcReader()
    tree = ProcessTree(reader, root)
    sampler = ProcessTreeSampler(reader, tree, uss_every=uss_every)

    def sample() -> object:
        for pid in jobs.pids("tree"):  # what Supervisor.adopt_orphans does on Windows
            if pid not in tree.pids():
                tree.adopt(pid)
        return sampler.sample()

    return sample


def psrecord_like(root: int) -> Callable[[], object]:
    parent = psutil.Process(root)
    known: dict[int, psutil.Process] = {}

    def sample() -> object:
        cpu = parent.cpu_percent()
        mem = parent.memory_info().rss
        for child in parent.children(recursive=True):
            proc = known.setdefault(child.pid, child)
            try:
                cpu += proc.cpu_percent()
                mem += proc.memory_info().rss
            except psutil.Error:
                pass
        return cpu, mem

    return sample


def memory_reads(root: int) -> dict[str, Callable[[], object]]:
    procs = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
    reads: dict[str, Callable[[], object]] = {
        "memory_full_info().uss": lambda: [p.memory_full_info().uss for p in procs],
    }
    if sys.platform == "win32":
        reads["memory_info().private"] = lambda: [p.memory_info().private for p in procs]
    return reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--procs", type=int, default=20)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    jobs = winjob.job_set()
    root = start_tree(args.procs, jobs)
    results: dict[str, list[float]] = {}
    try:
        tree_size = 1 + len(psutil.Process(root.pid).children(recursive=True))
        for _ in range(args.runs):
            contenders = {
                "soakctl": soakctl_sampler(root.pid, jobs, 10),
                "soakctl uss=1": soakctl_sampler(root.pid, jobs, 1),
                "psrecord": psrecord_like(root.pid),
                **memory_reads(root.pid),
            }
            for name, fn in contenders.items():  # interleaved: same machine load for all
                results.setdefault(name, []).append(per_sample_ms(fn, args.samples))
    finally:
        stop_tree(root, jobs)
    med = {name: statistics.median(v) for name, v in results.items()}
    print(f"{sys.platform}, psutil {psutil.__version__}, tree of {tree_size} processes, "
          f"{args.samples} samples x {args.runs} runs (median of run medians):")
    for name, ms in med.items():
        print(f"  {name:24s} {ms:8.3f} ms per sample = {ms / 10:.3f} % of one core at 1 Hz")
    print(f"  ratio soakctl / psrecord       = {med['soakctl'] / med['psrecord']:.2f}")
    print(f"  ratio soakctl uss=1 / psrecord = {med['soakctl uss=1'] / med['psrecord']:.2f}")


if __name__ == "__main__":
    main()
