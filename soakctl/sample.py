"""The process-tree sampler: one sample (``soakctl.contracts.Sample``) of a whole tree per call.

Cheap fields come from :mod:`soakctl.procfs` every sample; USS (which walks the memory map)
every ``uss_every`` samples only, and is absent from the others. CPU percent is the tree's CPU
time delta over the wall delta (100 = one core); a process that appears between two samples
contributes all of its CPU time, one that vanishes contributes nothing for its last interval,
as in psrecord and top.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from soakctl.clock import Clock, SystemClock
from soakctl.contracts import Sample
from soakctl.procfs import ProcReading
from soakctl.proctree import ProcessTree, ProcReader

#: num_procs, rss, vms, threads, fds, zombies, io read, io written: a sample's tree totals
_Totals = tuple[int, int, int, int, int, int, int, int]


class ProcessTreeSampler:
    def __init__(
        self,
        reader: ProcReader,
        tree: ProcessTree,
        *,
        name: str = "target",
        disk_path: str | os.PathLike[str] = ".",
        uss_every: int = 10,
        clock: Clock | None = None,
        log_bytes: Callable[[], int] | None = None,
        restarts: Callable[[], int] | None = None,
        metrics: Callable[[], dict[str, float] | None] | None = None,
    ) -> None:
        self._reader = reader
        self.tree = tree
        self.name = name
        self._disk_path = os.fspath(disk_path)
        self._uss_every = max(1, uss_every)
        self._clock = clock or SystemClock()
        self._log_bytes = log_bytes
        self._restarts = restarts
        self._metrics = metrics
        self._prev_cpu: dict[tuple[int, float], float] = {}
        self._prev_mono: float | None = None
        # The last sample's readings (the tree answers the same list while nothing ran), live
        # members and totals.
        self._readings: list[ProcReading] | None = None
        self._live: list[ProcReading] = []
        self._totals: _Totals = (0, 0, 0, 0, 0, 0, 0, 0)
        self._start_mono = self._clock.monotonic()
        self._count = 0
        self._own_pid = os.getpid()
        self._prev_sys = reader.sys_cpu_times()

    def sample(self) -> Sample:
        now_mono = self._clock.monotonic()
        readings = self.tree.refresh()
        reader = self._reader
        wall = now_mono - self._prev_mono if self._prev_mono is not None else 0.0
        self._prev_mono = now_mono
        if readings is self._readings:
            # No member has run since the last sample (soakctl.procfs): its totals stand and no
            # CPU time was used. The reader kept its descriptors (no sweep).
            live, totals, cpu_percent = self._live, self._totals, 0.0
        else:
            live = [r for r in readings if not r.zombie]
            totals, cpu_percent = self._add_up(readings, live, wall)
            self._readings, self._live, self._totals = readings, live, totals
            sweep = getattr(reader, "sweep", None)
            if sweep is not None:
                sweep()  # close cached procfs descriptors of processes that left the tree
        num_procs, rss, vms, threads, num_fds, zombies, io_read, io_write = totals
        sample: Sample = {
            "ts": round(self._clock.time(), 3),
            "elapsed_s": round(now_mono - self._start_mono, 3),
            "name": self.name,
            "pid": self.tree.root_pid,
            "num_procs": num_procs,
            "rss_bytes": rss,
            "vms_bytes": vms,
        }
        if self._count % self._uss_every == 0:
            uss = [reader.uss_bytes(r.pid) for r in live]
            if live and all(u is not None for u in uss):
                sample["uss_bytes"] = sum(u for u in uss if u is not None)
        self._count += 1
        sample["cpu_percent"] = round(cpu_percent, 2)
        sample["num_threads"] = threads
        sample["num_fds"] = num_fds
        sample["zombies"] = zombies
        sample["io_read_bytes"] = io_read
        sample["io_write_bytes"] = io_write
        sample["sys_cpu_percent"] = self._sys_cpu_percent()
        sample["sys_mem_available_bytes"] = reader.sys_mem_available()
        sample["disk_free_bytes"] = disk_free(self._disk_path)
        sample["log_bytes"] = self._log_bytes() if self._log_bytes else 0
        sample["restarts"] = self._restarts() if self._restarts else 0
        if self._metrics is not None:
            scraped = self._metrics()
            if scraped is not None:
                sample["metrics"] = scraped
        return sample

    def _add_up(self, readings: list[ProcReading], live: list[ProcReading],
                wall: float) -> tuple[_Totals, float]:
        """The tree's totals and CPU percent since the last sample, in one pass over the live
        members (a 500-process tree makes every pass count)."""
        cpu: dict[tuple[int, float], float] = {}
        prev_cpu = self._prev_cpu
        cpu_delta = 0.0
        rss = vms = threads = 0
        for r in live:
            key = (r.pid, r.start)
            cpu_s = r.cpu_s
            cpu[key] = cpu_s
            cpu_delta += cpu_s - prev_cpu.get(key, 0.0)
            rss += r.rss_bytes
            vms += r.vms_bytes
            threads += r.num_threads
        self._prev_cpu = cpu
        num_fds, io_read, io_write = self._reader.fds_io_totals([r.pid for r in live])
        # A zombie whose parent is soakctl is ours to reap on the next tick, not a leak.
        zombies = sum(1 for r in readings if r.zombie and r.ppid != self._own_pid)
        totals = (len(live), rss, vms, threads, num_fds, zombies, io_read, io_write)
        return totals, (100.0 * cpu_delta / wall if wall > 0 else 0.0)

    def _sys_cpu_percent(self) -> float:
        """Machine-wide busy share since the last sample, 0..100 (like ``top``'s summary)."""
        busy, total = self._reader.sys_cpu_times()
        prev_busy, prev_total = self._prev_sys
        self._prev_sys = (busy, total)
        if total <= prev_total:
            return 0.0
        return round(100.0 * (busy - prev_busy) / (total - prev_total), 1)


def disk_free(path: str | os.PathLike[str]) -> int:
    """Free bytes on the file system holding ``path`` (for unprivileged users, as ``df``);
    0 if it cannot be read."""
    try:
        if _statvfs is not None:  # what shutil.disk_usage does, without its named tuple
            st = _statvfs(path)
            return int(st.f_bavail * st.f_frsize)
        return shutil.disk_usage(path).free
    except OSError:
        return 0


_statvfs: Callable[[str | os.PathLike[str]], os.statvfs_result] | None = getattr(
    os, "statvfs", None)
