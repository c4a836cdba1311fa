"""Per-process readings, cheap: a Linux ``/proc`` fast path and a psutil path for elsewhere.

The sampler reads every process of the tree every second for 24 hours, so each reading must
cost microseconds. On Linux one read of ``/proc/PID/stat`` gives state, parent, session, CPU
times, threads, VMS and RSS; ``/proc/PID/task/*/children`` gives children without scanning the
whole machine (a full ``psutil.Process.children(recursive=True)`` walks every process on the
host). Other platforms go through psutil, whose ``oneshot()`` batches the same reads.
A process that vanishes mid-reading is normal and returns ``None``.

Opening a procfs file costs more than reading it (the path walk), so the files read every
sample (``stat``, ``io``, the ``fd`` directory and, for a single-threaded process, its
``children``) stay open: a reading is one ``pread`` at
offset 0, or one ``fstat``, on a cached descriptor. A cached descriptor belongs to one process:
once it exits, the read fails (``ESRCH``), the descriptor is closed and the path reopened, so a
recycled pid is read afresh (the tree's start-time check then tells it apart). Descriptors not
used between two :meth:`LinuxProcReader.sweep` calls (the sampler calls it once per sample) are
closed, and at most a quarter of the open-files limit (4,096 at most) is ever cached.

Idle members cost one cheap call. The process's CPU clock (``clock_gettime`` on the clock id
``clock_getcpuclockid(3)`` gives for a pid: nanoseconds run by all of its threads, no file to
open or render) changes whenever any of its threads has run; while it has not, nothing this
module reads can have changed either (CPU time, threads, VMS and RSS growth, open fds and I/O
counters all move only in the process's own context), so the last reading, fd count and I/O are
answered again. (``/proc/PID/schedstat`` would not do: it counts the main thread only, and a
process whose main thread waits on its workers would look idle while they allocate.) A pid
reused by another process reads a different clock, so it is read afresh and the tree's
start-time check tells it apart. The one thing that moves without the process running is RSS
*shrinking* (the kernel reclaims or swaps its pages): every ``FULL_EVERY`` samples every member
is read in full, so such a drop shows up within that many samples. USS, read every few samples,
is reused the same way while the member has neither run nor changed RSS, and read afresh at
least every ``USS_REUSE + 1`` readings: a private page can also appear without the process
running (a page it shared with a process that exited or copied it is its own now). A tree's
sleeping workers, the common case, then cost one clock read each instead of three reads and a
page-table walk (``benchmarks/bench_sampler.py``). When no member at all has run and no process
was created, :meth:`LinuxProcReader.still` says so after one tight loop of those clock reads,
and the tree and the sampler answer their whole last sample again (a quiet tick touches little
code: at 1 Hz each wake-up finds the caches cold, so code not run is the cheapest).

On Windows (the psutil path) ``rss_bytes`` is the working set, ``vms_bytes`` the pagefile-backed
commit, ``num_fds`` the handle count and ``uss_bytes`` the *private bytes*
(``memory_info().private``): the commit charge no other process shares, the counter Windows
leak hunts watch, and one cheap call, where ``memory_full_info().uss`` walks the working set
page by page (``benchmarks/bench_windows_sampling.py`` measures both).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import defaultdict
from collections.abc import Callable, Collection
from typing import Any, NamedTuple

import psutil

from soakctl.platform import LINUX, WINDOWS

#: every how many samples every member is read in full, idle or not (module docstring)
FULL_EVERY = 10
#: how many USS readings in a row an idle member may be answered from its last one (module doc)
USS_REUSE = 5
_KINDS = (0, 1, 2, 3)  # stat, io, fd directory, children
_USED, _OPEN = 4, 5  # a slot's bit masks of its descriptors used since the sweep, and open

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


_new_reading = tuple.__new__
_clock_ns = time.clock_gettime_ns


def _cpu_clock_ns(pid: int) -> int | None:
    """Nanoseconds run by all threads of ``pid`` (its process CPU clock; the clock id is the one
    glibc's ``clock_getcpuclockid`` makes, a stable kernel ABI); None once it is reaped."""
    try:
        return _clock_ns(((~pid) << 3) | 2)  # CPUCLOCK_SCHED of the whole thread group
    except (OSError, OverflowError):  # reaped, or no such pid at all (beyond pid_max)
        return None


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


def _fd_budget() -> int:
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return 0
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(0, min(4096, soft // 4))


class LinuxProcReader:
    """Readings straight from procfs (one ``pread`` of ``stat`` per process, see module doc)."""

    def __init__(self) -> None:
        # pid -> [stat fd, io fd, fd-directory fd, children fd, bit mask of those used since the
        # sweep, bit mask of those open]; -1 marks a descriptor that is not open.
        self._slots: dict[int, list[int]] = {}
        # Idle members (module docstring): pid -> [CPU clock ns, reading, fds, io] of the last
        # full reading; the pids answered from it in the current sample.
        self._last: dict[int, list[Any]] = {}
        self._idle: set[int] = set()
        self._ran = -1  # the member whose run made the last still() say False
        # pid -> [CPU clock ns, rss, uss, times reused] at the last smaps_rollup reading
        self._uss: dict[int, list[Any]] = {}
        self.full_every = FULL_EVERY
        self._round = 0
        self._open = 0
        self._budget = _fd_budget()
        self._sys: dict[str, int] = {}  # machine-wide files read every sample, kept open

    def _sys_read(self, path: str, size: int) -> bytes | None:
        """The first ``size`` bytes of ``/proc/loadavg``, ``/proc/stat`` or ``/proc/meminfo``: one
        ``pread`` of a kept descriptor (the kernel renders only what is asked for)."""
        fd = self._sys.get(path)
        if fd is None:
            try:
                fd = self._sys[path] = os.open(path, os.O_RDONLY)
            except OSError:
                return None
        try:
            return os.pread(fd, size, 0)
        except OSError:
            return None

    def _slot(self, pid: int, kind: int) -> list[int]:
        slot = self._slots.get(pid)
        if slot is None:
            slot = self._slots[pid] = [-1, -1, -1, -1, 0, 0]
        slot[_USED] |= 1 << kind
        return slot

    def _cached(self, pid: int, kind: int, name: str, empty_ok: bool = False) -> bytes | None:
        slot = self._slot(pid, kind)
        fd = slot[kind]
        if fd >= 0:
            try:
                data = os.pread(fd, 8192, 0)
                if data or empty_ok:
                    return data
            except OSError:
                pass
            self._close(slot, kind)  # the process is gone (or the pid now names another one)
        path = f"/proc/{pid}/{name}"
        if self._open >= self._budget:
            return _read_small(path)
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            data = os.read(fd, 8192)
        except OSError:
            os.close(fd)
            return None
        slot[kind] = fd
        slot[_OPEN] |= 1 << kind
        self._open += 1
        return data

    def _close(self, slot: list[int], kind: int) -> None:
        fd = slot[kind]
        if fd >= 0:
            slot[kind] = -1
            slot[_OPEN] &= ~(1 << kind)
            self._open -= 1
            with contextlib.suppress(OSError):
                os.close(fd)

    def sweep(self) -> None:
        """Close every descriptor nobody used since the last sweep (a process that left the
        tree, a zombie whose io and fd files are no longer read)."""
        empty = []
        for pid, slot in self._slots.items():
            stale = slot[_OPEN] & ~slot[_USED]  # open but unused: one test a member, usually 0
            if stale:
                for kind in _KINDS:
                    if stale & (1 << kind):
                        self._close(slot, kind)
            slot[_USED] = 0
            if not slot[_OPEN]:
                empty.append(pid)
        for pid in empty:
            del self._slots[pid]
            self._last.pop(pid, None)
            self._uss.pop(pid, None)
        self._idle.clear()
        self._round += 1

    def close(self) -> None:
        for slot in self._slots.values():
            for kind in _KINDS:
                self._close(slot, kind)
        self._slots.clear()
        self._last.clear()
        self._uss.clear()
        for fd in self._sys.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._sys.clear()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def read(self, pid: int) -> ProcReading | None:
        """The process's reading; the last one again if it has not run since (its CPU clock
        has not moved) and this is not a full round (module docstring)."""
        ran = _cpu_clock_ns(pid)  # before the stat: a run in between shows next time
        last = self._last.pop(pid, None)
        if (ran is not None and last is not None and ran == last[0]
                and self._round % self.full_every):
            self._last[pid] = last
            self._idle.add(pid)
            slot = self._slots.get(pid)
            if slot is not None:
                slot[_USED] |= 0b111  # keep the stat, io and fd-directory descriptors open
            return last[1]  # type: ignore[no-any-return]
        reading = self._parse_stat(pid, self._cached(pid, 0, "stat"))
        if reading is None:
            self._forget(pid)  # gone: its other descriptors too, now (a quiet sample to come
            return None  # skips the sweep, see still())
        if ran is not None:
            self._last[pid] = [ran, reading, None, None]
        return reading

    def _forget(self, pid: int) -> None:
        slot = self._slots.pop(pid, None)
        if slot is not None:
            for kind in _KINDS:
                self._close(slot, kind)
        self._last.pop(pid, None)
        self._uss.pop(pid, None)

    def still(self, pids: Collection[int]) -> bool:
        """True when none of ``pids`` has run since its last reading and this is not a full
        round: the whole last sample holds (readings, fd counts, I/O; module docstring), and
        this call ends the sample in place of :meth:`sweep`, whose descriptors it keeps.

        One clock read per member in one tight loop, and none of the others when the member
        that ran last time (a tree's one busy worker) has run again: it is checked first.
        False sends the caller to :meth:`read` of every member, as before.
        """
        if not self._round % self.full_every:
            return False
        last, clock = self._last, _clock_ns
        try:
            ran = self._ran
            if ran in pids and clock(((~ran) << 3) | 2) != last[ran][0]:
                return False
            for pid in pids:
                if clock(((~pid) << 3) | 2) != last[pid][0]:
                    self._ran = pid
                    return False
        except (KeyError, OSError, OverflowError):  # never read in full, or gone
            return False
        self._round += 1
        return True

    def read_uncached(self, pid: int) -> ProcReading | None:
        """A reading without keeping a descriptor (probing pids that are likely not ours)."""
        return self._parse_stat(pid, _read_small(f"/proc/{pid}/stat"))

    def is_thread_group_leader(self, pid: int) -> bool:
        """False for a thread id (``/proc/TID`` exists for threads too) or a vanished pid."""
        data = _read_small(f"/proc/{pid}/status")
        if not data:
            return False
        start = data.find(b"\nTgid:")
        if start < 0:
            return False
        end = data.index(b"\n", start + 1)
        return int(data[start + 6 : end]) == pid

    def _parse_stat(self, pid: int, data: bytes | None) -> ProcReading | None:
        if not data:
            return None
        # comm may contain spaces and parentheses: fields start after the last ')'. Only the
        # first 22 are needed; tuple.__new__ skips the NamedTuple constructor's own overhead.
        f = data[data.rindex(b")") + 2 :].split(None, 22)
        return _new_reading(ProcReading, (
            pid,
            int(f[1]),
            int(f[3]),
            float(f[19]),
            f[0] in (b"Z", b"X"),
            (int(f[11]) + int(f[12])) / _CLK_TCK,
            int(f[17]),
            int(f[20]),
            int(f[21]) * _PAGE,
        ))

    def children(self, pid: int, num_threads: int = 0) -> list[int]:
        """Direct children, from every thread's ``children`` file (a thread may fork)."""
        if num_threads == 1:  # the common case: one cached file
            data = self._cached(pid, 3, f"task/{pid}/children", empty_ok=True)
            return list(map(int, data.split())) if data else []
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

    def _remembered(self, pid: int, index: int, fresh: Callable[[int], Any]) -> Any:
        """An idle member's fd count (``index`` 2) or I/O (3) from its last reading; otherwise
        read afresh and remembered with that reading."""
        if pid in self._idle:
            value = self._last[pid][index]
            if value is not None:
                return value
        value = fresh(pid)
        entry = self._last.get(pid)
        if entry is not None:
            entry[index] = value
        return value

    def num_fds(self, pid: int) -> int | None:
        count: int | None = self._remembered(pid, 2, self._num_fds)
        return count

    def _num_fds(self, pid: int) -> int | None:
        # Linux >= 6.2 reports the number of open fds as the directory's size: one fstat of a
        # cached descriptor instead of a listdir; older kernels say 0 and we count.
        slot = self._slot(pid, 2)
        fd = slot[2]
        if fd >= 0:
            try:
                count = os.fstat(fd).st_size
                if count > 0:
                    return count
            except OSError:
                pass
            self._close(slot, 2)
        path = f"/proc/{pid}/fd"
        try:
            count = os.stat(path).st_size
            if count <= 0:
                return len(os.listdir(path))
        except OSError:
            return None
        if self._open < self._budget:
            try:
                slot[2] = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
                slot[_OPEN] |= 1 << 2
                self._open += 1
            except OSError:
                pass
        return count

    def spawn_marker(self) -> bytes | None:
        """The most recently created pid on the machine (``/proc/loadavg``): while it does not
        change, no process was created anywhere and no tree can have gained a member."""
        data = self._sys_read("/proc/loadavg", 256)
        return data.rsplit(b" ", 1)[-1] if data else None

    def io_bytes(self, pid: int) -> tuple[int, int] | None:
        io: tuple[int, int] | None = self._remembered(pid, 3, self._io_bytes)
        return io

    def fds_io_totals(self, pids: list[int]) -> tuple[int, int, int]:
        """(open fds, read bytes, written bytes) summed over ``pids``, the members just read:
        an idle member's come from its last reading without a call per value."""
        idle, last = self._idle, self._last
        pairs = []
        for pid in pids:
            fds = io = None
            if pid in idle:
                _, _, fds, io = last[pid]
            pairs.append((self.num_fds(pid) if fds is None else fds,
                          self.io_bytes(pid) if io is None else io))
        return _sum_fds_io(pairs)

    def _io_bytes(self, pid: int) -> tuple[int, int] | None:
        data = self._cached(pid, 1, "io")
        if not data:
            return None
        # rchar wchar syscr syscw read_bytes write_bytes cancelled_write_bytes, "name: value"
        tokens = data.split()
        try:
            return int(tokens[9]), int(tokens[11])
        except (IndexError, ValueError):
            return None

    def uss_bytes(self, pid: int) -> int | None:
        """Private memory (``Private_*`` of ``smaps_rollup``, as psutil's USS).

        ``smaps_rollup`` walks the process's page tables (~0.1 ms a process, the costliest
        read here): a member that has not run and whose RSS has not moved since its last USS
        reading gets that value again, for at most ``USS_REUSE`` readings in a row.
        """
        last = self._last.get(pid)
        memo = self._uss.get(pid)
        if (memo is not None and last is not None and memo[0] == last[0]
                and memo[1] == last[1].rss_bytes and memo[3] < USS_REUSE):
            memo[3] += 1
            return memo[2]  # type: ignore[no-any-return]
        data = _read_small(f"/proc/{pid}/smaps_rollup")
        if not data:
            self._uss.pop(pid, None)
            return _psutil_uss(pid)
        total = 0
        for line in data.split(b"\n"):
            if line.startswith(b"Private_"):
                total += int(line.split()[1]) * 1024
        if last is not None:
            self._uss[pid] = [last[0], last[1].rss_bytes, total, 0]
        return total

    def sys_cpu_times(self) -> tuple[float, float]:
        """(busy, total) jiffies of all CPUs, from the first line of ``/proc/stat``."""
        data = self._sys_read("/proc/stat", 512)
        if not data:
            return _psutil_cpu_times()
        # cpu user nice system idle iowait irq softirq steal guest guest_nice
        values = [int(v) for v in data[: data.index(b"\n")].split()[1:9]]
        idle = values[3] + values[4]
        return float(sum(values) - idle), float(sum(values))

    def sys_mem_available(self) -> int:
        data = self._sys_read("/proc/meminfo", 512)
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

    def fds_io_totals(self, pids: list[int]) -> tuple[int, int, int]:
        """(open fds or handles, read bytes, written bytes) summed over ``pids``."""
        return _sum_fds_io([(self.num_fds(pid), self.io_bytes(pid)) for pid in pids])

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


def _sum_fds_io(pairs: list[tuple[int | None, tuple[int, int] | None]]) -> tuple[int, int, int]:
    """(fds, read bytes, written bytes) totals of per-process readings; None counts as nothing."""
    fds_total = io_read = io_write = 0
    for fds, io in pairs:
        if fds is not None:
            fds_total += fds
        if io is not None:
            io_read += io[0]
            io_write += io[1]
    return fds_total, io_read, io_write


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
