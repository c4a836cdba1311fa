"""The Linux /proc fast path against psutil, on real processes: cached descriptors, the probe of
new pids instead of a children walk, threads not taken for children, descriptors released."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from soakctl.contracts import Sample
from soakctl.procfs import LinuxProcReader, default_reader
from soakctl.proctree import ProcessTree
from soakctl.sample import ProcessTreeSampler

pytestmark = pytest.mark.skipif(not isinstance(default_reader(), LinuxProcReader),
                                reason="Linux procfs only")

# A parent that, on each line on stdin, forks a sleeping child ("fork"), a grandchild through
# a short-lived child ("nest"), starts 3 threads ("threads") or grows by 8 MiB ("grow").
PARENT = r"""
import os, signal, sys, threading, time
if "--reap" in sys.argv:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children vanish at exit, no zombies
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "fork":
        if os.fork() == 0:
            time.sleep(120); os._exit(0)
    elif cmd == "nest":
        if os.fork() == 0:
            if os.fork() == 0:
                time.sleep(120); os._exit(0)
            time.sleep(120); os._exit(0)
    elif cmd == "threads":
        for _ in range(3):
            threading.Thread(target=time.sleep, args=(120,), daemon=True).start()
    elif cmd == "grow":
        grown = [*globals().get("grown", []), bytearray(8 << 20)]
    print("ok", flush=True)
"""


def _end(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, 9)
    proc.wait(timeout=10)
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", PARENT, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)


def _tell(proc: subprocess.Popen[str], cmd: str) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(cmd + "\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "ok"


def _expected(pid: int) -> set[int]:
    root = psutil.Process(pid)
    return {pid} | {c.pid for c in root.children(recursive=True)}


def _wait_members(tree: ProcessTree, root: int, count: int) -> tuple[set[int], set[int]]:
    """(members, psutil's view) once psutil sees ``count`` processes and the tree agrees."""
    deadline = time.monotonic() + 20
    got: set[int] = set()
    want: set[int] = set()
    while time.monotonic() < deadline:
        want = _expected(root)
        got = {r.pid for r in tree.refresh()}
        if len(want) == count and got == want:
            break
        time.sleep(0.05)
    return got, want


def _sampled(reader: LinuxProcReader, proc: subprocess.Popen[str],
             forks: int = 0) -> tuple[ProcessTree, ProcessTreeSampler]:
    """A tree rooted at ``proc`` (told to fork ``forks`` children, all found) and a sampler."""
    tree = ProcessTree(reader, proc.pid)
    tree.set_root(proc.pid)
    for _ in range(forks):
        _tell(proc, "fork")
    got, want = _wait_members(tree, proc.pid, forks + 1)
    assert got == want
    return tree, ProcessTreeSampler(reader, tree, disk_path="/tmp")


def _quiet_pair(tree: ProcessTree, sampler: ProcessTreeSampler) -> tuple[Sample, Sample]:
    """Two samples in a row between which nothing in the tree ran (the tree handed back the
    same readings), retried until the tree is quiet."""
    deadline = time.monotonic() + 20
    while True:
        first = sampler.sample()
        readings = tree._readings
        second = sampler.sample()
        if tree._readings is readings:
            return first, second
        assert time.monotonic() < deadline, "the tree never went quiet"
        time.sleep(0.05)


def test_readings_match_psutil_and_the_tree_follows_forks_not_threads() -> None:
    proc = _spawn()
    reader = LinuxProcReader()
    try:
        tree = ProcessTree(reader, proc.pid)
        tree.set_root(proc.pid)
        assert {r.pid for r in tree.refresh()} == {proc.pid}
        count = 1
        for cmd in ("fork", "threads", "nest", "fork", "threads"):
            _tell(proc, cmd)
            count += {"fork": 1, "nest": 2, "threads": 0}[cmd]
            got, want = _wait_members(tree, proc.pid, count)
            assert got == want and len(got) == count, cmd
        for r in tree.refresh():
            p = psutil.Process(r.pid)
            with p.oneshot():
                mem = p.memory_info()
                assert r.ppid == p.ppid()
                assert r.num_threads == p.num_threads()
                assert r.vms_bytes == mem.vms
                assert abs(r.rss_bytes - mem.rss) <= 1 << 20
                assert reader.num_fds(r.pid) == p.num_fds()
                io = p.io_counters()
                got_io = reader.io_bytes(r.pid)
                assert got_io is not None and got_io[0] <= io.read_bytes
            uss = reader.uss_bytes(r.pid)
            ref = p.memory_full_info().uss
            assert uss is not None and abs(uss - ref) <= 1 << 20
        # The parent's thread ids are never members (they have /proc entries too).
        tids = {t.id for t in psutil.Process(proc.pid).threads()} - {proc.pid}
        assert tids and not tids & set(tree.pids())
    finally:
        _end(proc)
        reader.close()


def test_cached_descriptors_follow_the_tree_and_are_released() -> None:
    proc = _spawn("--reap")
    reader = LinuxProcReader()
    before = _open_fds()
    try:
        tree, sampler = _sampled(reader, proc, forks=4)
        sample = sampler.sample()
        assert sample["num_procs"] == 5
        cached = _open_fds() - before
        # stat, io, fd directory and children per member at most, plus the three
        # machine-wide files (loadavg, stat, meminfo)
        assert 5 <= cached <= 5 * 4 + 3
        # CPU time is read afresh from a cached descriptor (pread at offset 0).
        _tell(proc, "threads")
        first = {r.pid: r.cpu_s for r in tree.refresh()}
        for child in psutil.Process(proc.pid).children():
            child.kill()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sampler.sample()["num_procs"] != 1:
            time.sleep(0.05)
        sampler.sample()
        # The children's descriptors are closed once they left the tree (and were reaped).
        assert _open_fds() - before <= 5 + 3
        assert set(first) >= {proc.pid}
    finally:
        _end(proc)
        reader.close()
    assert _open_fds() <= before


def test_new_children_are_found_by_probing_the_new_pids_only() -> None:
    proc = _spawn()
    reader = LinuxProcReader()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        tree = ProcessTree(reader, proc.pid)
        tree.set_root(proc.pid)
        tree.refresh()
        _tell(proc, "nest")
        _tell(proc, "threads")
        got, _want = _wait_members(ProcessTree(reader, proc.pid), proc.pid, 3)
        kids = sorted(got - {proc.pid})
        tids = sorted({t.id for t in psutil.Process(proc.pid).threads()} - {proc.pid})
        pids = [*kids, *tids, other.pid]
        frontier: list[int] = []
        # Markers as /proc/loadavg gives them (with the newline): the last pid created.
        old, new = f"{min(pids) - 1}\n".encode(), f"{max(pids)}\n".encode()
        calls: list[int] = []
        tree.probe_limit = 10_000  # by default no more pids than the tree has members
        listing = reader.children
        reader.children = lambda pid, n=0: calls.append(pid) or listing(pid, n)  # type: ignore[method-assign]
        assert tree._probe_new_pids(old, new, frontier)
        assert sorted(frontier) == kids  # child and grandchild; no thread ids, no stranger
        assert not calls
        # A gap too wide, or pids that wrapped around: the caller must walk instead.
        assert not tree._probe_new_pids(b"10\n", b"100000\n", [])
        assert not tree._probe_new_pids(new, old, [])
        tree.probe_limit = None
        assert not tree._probe_new_pids(b"10\n", b"12\n", [])  # 1 member: walking is cheaper
    finally:
        other.kill()
        other.wait(timeout=10)
        _end(proc)
        reader.close()


# A child that, on each line on stdin, allocates (and touches) 8 MiB more and opens a file.
GROWER = r"""
import sys
keep = []
print("ready", flush=True)  # start-up (imports, their files) is over: fds stay put from here
for line in sys.stdin:
    keep.append(bytearray(8 << 20))
    keep.append(open(__file__ if False else "/dev/null"))
    print("ok", flush=True)
"""


def test_idle_members_are_answered_from_their_last_reading_and_re_read_once_they_run() -> None:
    """A member whose CPU clock did not move has not run: its stat, fd count and io cannot have
    changed, and the reader answers from the last reading without re-reading them. A member that
    ran is read in full at once, and every ``full_every`` samples everyone is."""
    proc = subprocess.Popen([sys.executable, "-c", GROWER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdin is not None and proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    reader = LinuxProcReader()
    reader.full_every = 1000  # no full round during the test unless it says so
    try:
        def settle() -> object:
            """A reading taken twice in a row with nothing run in between: the idle path."""
            deadline = time.monotonic() + 20
            while True:
                first = reader.read(proc.pid)
                reader.num_fds(proc.pid)
                reader.io_bytes(proc.pid)
                reader.sweep()
                second = reader.read(proc.pid)
                if second is first:
                    return second
                assert time.monotonic() < deadline, "the child never went idle"
                time.sleep(0.05)

        idle = settle()
        fds_before = reader.num_fds(proc.pid)
        uss_before = reader.uss_bytes(proc.pid)
        assert fds_before is not None and uss_before is not None
        assert reader.uss_bytes(proc.pid) == uss_before  # idle: the same value, not re-read
        assert reader._uss[proc.pid][3] == 1
        reader.sweep()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "ok"
        grown = reader.read(proc.pid)  # it ran: a fresh reading, not the cached one
        assert grown is not idle and grown is not None
        assert grown.rss_bytes >= idle.rss_bytes + (6 << 20)  # type: ignore[attr-defined]
        assert reader.num_fds(proc.pid) == fds_before + 1
        uss_after = reader.uss_bytes(proc.pid)  # it ran: read afresh
        assert uss_after is not None and uss_after >= uss_before + (6 << 20)
        reader.sweep()

        idle = settle()
        reader._round = 0  # the next read is a full round: re-read even though idle
        reader.full_every = 1
        again = reader.read(proc.pid)
        assert again is not idle and again == idle
    finally:
        reader.close()
        _end(proc)


def test_a_quiet_tree_is_answered_whole_until_a_member_runs_forks_or_leaves() -> None:
    """When no member has run and no process was created, the tree hands back its last readings
    (the same list) and the sample its last totals with no CPU used; a member that runs, a fork
    and a departure are each seen on the next sample, and a full round re-reads everyone."""
    proc = _spawn("--reap")
    reader = LinuxProcReader()
    reader.full_every = 1000  # no full round unless the test says so
    try:
        tree, sampler = _sampled(reader, proc, forks=2)

        first, second = _quiet_pair(tree, sampler)
        assert second["cpu_percent"] == 0.0
        for key in ("num_procs", "rss_bytes", "vms_bytes", "num_threads", "num_fds",
                    "io_read_bytes", "io_write_bytes", "zombies"):
            assert second[key] == first[key], key
        assert first["num_procs"] == 3

        _tell(proc, "grow")  # the root runs (no process created): read afresh, not remembered
        assert sampler.sample()["rss_bytes"] >= first["rss_bytes"] + (6 << 20)

        _quiet_pair(tree, sampler)
        _tell(proc, "fork")  # a new process: the tree looks for it
        deadline = time.monotonic() + 20
        while sampler.sample()["num_procs"] != 4:
            assert time.monotonic() < deadline, "the new child was never found"
            time.sleep(0.05)

        _quiet_pair(tree, sampler)
        psutil.Process(proc.pid).children()[0].kill()  # a departure
        deadline = time.monotonic() + 20
        while sampler.sample()["num_procs"] != 3:
            assert time.monotonic() < deadline, "the killed child never left"
            time.sleep(0.05)

        _quiet_pair(tree, sampler)
        last = tree._readings
        reader.full_every = 1  # every round is a full one: nobody is answered from memory
        tree.refresh()
        assert tree._readings is not last
    finally:
        _end(proc)
        reader.close()


# A process whose main thread only waits for its worker; the worker grows by 8 MiB a line.
WAITING_MAIN = r"""
import sys, threading
keep = []
def work():
    print("ready", flush=True)
    for line in sys.stdin:
        keep.append(bytearray(8 << 20))
        print("ok", flush=True)
worker = threading.Thread(target=work)
worker.start()
worker.join()
"""


def test_a_member_whose_main_thread_waits_is_read_afresh_when_a_worker_thread_ran() -> None:
    """Whether a member ran counts every thread (its process CPU clock), not the main thread's
    /proc/PID/schedstat: a worker that allocates while the main thread waits is seen at once."""
    proc = subprocess.Popen([sys.executable, "-c", WAITING_MAIN], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdin is not None and proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    reader = LinuxProcReader()
    reader.full_every = 1000  # no full round: only the run check can bring a fresh reading
    try:
        tree, sampler = _sampled(reader, proc)
        for _ in range(3):
            before, _ = _quiet_pair(tree, sampler)
            proc.stdin.write("go\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "ok"
            after = sampler.sample()
            assert after["rss_bytes"] >= before["rss_bytes"] + (6 << 20)
            assert after["num_threads"] == 2
    finally:
        _end(proc)
        reader.close()
