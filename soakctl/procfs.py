"""Per-process readings, cheap: a Linux ``/proc`` fast path and a psutil path for elsewhere.

The sampler reads every process of the tree every second for 24 hours, so each reading must
cost microseconds. On Linux one read of ``/proc/PID/stat`` gives state, parent, session, CPU
times, threads, VMS and RSS; ``/proc/PID/task/*/children`` gives children without scanning the
whole machine (a full ``psutil.Process.children(recursive=True)`` walks every process on the
host). Other platforms go through psutil, whose ``oneshot()`` batches the same reads.
A process that vanishes mid-reading is normal and returns ``None``.

On Windows (the psutil path) ``rss_bytes`` is the working set, ``vms_bytes`` the pagefile-backed
commit, ``num_fds`` the handle count and ``uss_bytes`` the *private bytes*
(``memory_info().private``): the commit charge no other process shares, the counter Windows
leak hunts watch, and one cheap call, where ``memory_full_info().uss`` walks the working set
page by page (``benchmarks/bench_windows_sampling.py`` measures both).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from typing import NamedTuple

import psutil

from soakctl.platform import LINUX, WINDOWS

#: how long one machine-wide parent map serves ``children()`` calls: a tree walk asks for the
#: children of every member within a few ms, and each fresh map is a scan of every process.
PPID_MAP_TTL_S = 0.2

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class ProcReading(NamedTuple):
    pid: int
    ppid: int
    session: int
    start: float  # identity with pid: start time (ticks since boot on Linux, epoch elsewhere)
    zombie: bool
    cpu_s: float
    num_threads: int
    vms_bytes: int
    rss_bytes: int


def _read_small(path: str) -> bytes | None:
    """One small procfs file in three syscalls, without a Python file object (~3x cheaper)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, 8192)
    except OSError:
        return None
    finally:
        os.close(fd)


class LinuxProcReader:
    """Readings straight from procfs (one ``stat`` read per process)."""

    def read(self, pid: int) -> ProcReading | None:
        data = _read_small(f"/proc/{pid}/stat")
        if not data:
            return None
        # comm may contain spaces and parentheses: fields start after the last ')'.
        fields = data[data.rindex(b")") + 2 :].split()
        return ProcReading(
            pid,
            int(fields[1]),
            int(fields[3]),
            float(fields[19]),
            fields[0] in (b"Z", b"X"),
            (int(fields[11]) + int(fields[12])) / _CLK_TCK,
            int(fields[17]),
            int(fields[20]),
            int(fields[21]) * _PAGE,
        )

    def children(self, pid: int, num_threads: int = 0) -> list[int]:
        """Direct children, from every thread's ``children`` file (a thread may fork)."""
        if num_threads == 1:
            tids = [str(pid)]
        else:
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                return []
        kids: list[int] = []
        for tid in tids:
            data = _read_small(f"/proc/{pid}/task/{tid}/children")
            if data:
                kids.extend(map(int, data.split()))
        return kids

    def num_fds(self, pid: int) -> int | None:
        path = f"/proc/{pid}/fd"
        try:
            # Linux >= 6.2 reports the number of open fds as the directory's size: one stat
            # instead of a listdir; older kernels say 0 and we count.
            count = os.stat(path).st_size
            return count if count > 0 else len(os.listdir(path))
        except OSError:
            return None

    def spawn_marker(self) -> bytes | None:
        """The most recently created pid on the machine (``/proc/loadavg``): while it does not
        change, no process was created anywhere and no tree can have gained a member."""
        data = _read_small("/proc/loadavg")
        return data.rsplit(b" ", 1)[-1] if data else None

    def io_bytes(self, pid: int) -> tuple[int, int] | None:
        data = _read_small(f"/proc/{pid}/io")
        if not data:
            return None
        # rchar wchar syscr syscw read_bytes write_bytes cancelled_write_bytes, "name: value"
        tokens = data.split()
        try:
            return int(tokens[9]), int(tokens[11])
        except (IndexError, ValueError):
            return None

    def uss_bytes(self, pid: int) -> int | None:
        return _psutil_uss(pid)

    def sys_cpu_times(self) -> tuple[float, float]:
        """(busy, total) jiffies of all CPUs, from the first line of ``/proc/stat``."""
        data = _read_small("/proc/stat")
        if not data:
            return _psutil_cpu_times()
        # cpu user nice system idle iowait irq softirq steal guest guest_nice
        values = [int(v) for v in data[: data.index(b"\n")].split()[1:9]]
        idle = values[3] + values[4]
        return float(sum(values) - idle), float(sum(values))

    def sys_mem_available(self) -> int:
        data = _read_small("/proc/meminfo")
        if data:
            start = data.find(b"MemAvailable:")
            if start >= 0:
                return int(data[start + 13 : data.index(b"kB", start)]) * 1024
        return int(psutil.virtual_memory().available)


class PsutilProcReader:
    """Readings through psutil (Windows, macOS, or Linux without procfs access)."""

    def __init__(self) -> None:
        self._cache: dict[int, psutil.Process] = {}
        self._kids: dict[int, list[int]] = {}
        self._kids_at = -1e18

    def _proc(self, pid: int, *, fresh: bool = False) -> psutil.Process | None:
        """The cached ``Process`` for ``pid``; ``fresh`` re-checks that the pid was not reused
        (a new ``Process`` behind the scenes: :meth:`read` does it once per pid per sample, the
        other readings of the same sample trust it)."""
        proc = self._cache.get(pid)
        if proc is None or (fresh and not proc.is_running()):
            try:
                proc = psutil.Process(pid)
            except (psutil.Error, OSError):
                self._cache.pop(pid, None)
                return None
            self._cache[pid] = proc
        return proc

    def read(self, pid: int) -> ProcReading | None:
        proc = self._proc(pid, fresh=True)
        if proc is None:
            return None
        try:
            with proc.oneshot():
                status = proc.status()
                times = proc.cpu_times()
                mem = proc.memory_info()
                return ProcReading(
                    pid=pid,
                    ppid=proc.ppid(),
                    session=-1,
                    start=proc.create_time(),
                    zombie=status == psutil.STATUS_ZOMBIE,
                    cpu_s=times.user + times.system,
                    num_threads=proc.num_threads(),
                    vms_bytes=mem.vms,
                    rss_bytes=mem.rss,
                )
        except (psutil.Error, OSError):
            return None

    def children(self, pid: int, num_threads: int = 0) -> list[int]:
        """Direct children, from one parent map per tree walk (``psutil.Process.children``
        scans every process on the machine per call); a "child" older than its parent is an
        orphan whose dead parent's pid was reused (Windows never reparents), not ours."""
        proc = self._proc(pid)
        ppid_map = getattr(psutil, "_ppid_map", None)
        try:
            if proc is None:
                return []
            if ppid_map is None:  # pragma: no cover - psutil without the (private) helper
                return [c.pid for c in proc.children()]
            now = time.monotonic()
            if now - self._kids_at > PPID_MAP_TTL_S:
                kids: dict[int, list[int]] = defaultdict(list)
                parents = ppid_map()
                for child, parent in parents.items():
                    kids[parent].append(child)
                self._kids, self._kids_at = kids, now
                # Forget processes that no longer exist, so a day of short-lived children
                # does not grow the cache.
                self._cache = {p: c for p, c in self._cache.items() if p in parents}
            born = proc.create_time()
            found = []
            for child in self._kids.get(pid, ()):
                kid = self._proc(child)
                if kid is not None and child != pid and kid.create_time() >= born:
                    found.append(child)
            return found
        except (psutil.Error, OSError):
            return []

    def num_fds(self, pid: int) -> int | None:
        proc = self._proc(pid)
        try:
            if proc is None:
                return None
            count = proc.num_handles() if hasattr(proc, "num_handles") else proc.num_fds()
            return int(count)
        except (psutil.Error, OSError):
            return None

    def io_bytes(self, pid: int) -> tuple[int, int] | None:
        proc = self._proc(pid)
        try:
            if proc is None or not hasattr(proc, "io_counters"):
                return None
            io = proc.io_counters()
            return io.read_bytes, io.write_bytes
        except (psutil.Error, OSError):
            return None

    def uss_bytes(self, pid: int) -> int | None:
        if not WINDOWS:
            return _psutil_uss(pid)
        proc = self._proc(pid)  # pragma: no cover - Windows: private bytes (module docstring)
        try:
            return int(proc.memory_info().private) if proc is not None else None
        except (psutil.Error, OSError, AttributeError):
            return None

    def sys_cpu_times(self) -> tuple[float, float]:
        return _psutil_cpu_times()

    def spawn_marker(self) -> bytes | None:
        return None  # unknown: always walk the tree

    def sys_mem_available(self) -> int:
        return int(psutil.virtual_memory().available)


def _psutil_cpu_times() -> tuple[float, float]:
    times = psutil.cpu_times()
    total = sum(times)
    idle = times.idle + getattr(times, "iowait", 0.0)
    return total - idle, total


def _psutil_uss(pid: int) -> int | None:
    try:
        return int(psutil.Process(pid).memory_full_info().uss)
    except (psutil.Error, OSError, AttributeError):
        return None


def default_reader() -> LinuxProcReader | PsutilProcReader:
    if LINUX and os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"):
        return LinuxProcReader()
    return PsutilProcReader()
