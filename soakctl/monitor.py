"""Attach to a running process and sample its tree, psrecord-style, on the run's sampler.

The process is not ours: nothing is started, stopped or reaped. Sampling ends when the process
exits (or becomes a zombie), when the duration ends, or when ``stop`` is set.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from soakctl.clock import Clock, SystemClock
from soakctl.errors import PathError, UsageError
from soakctl.observer import NullObserver, RunObserver
from soakctl.procfs import default_reader
from soakctl.proctree import ProcessTree, ProcReader
from soakctl.rundir import ensure_dir
from soakctl.sample import ProcessTreeSampler
from soakctl.sink import JsonlSink


@dataclass(frozen=True)
class MonitorResult:
    samples: int
    reason: str  # "exited", "duration_reached", "interrupted"


def monitor_pid(pid: int, out: Path, *, interval_s: float = 1.0, duration_s: float | None = None,
                stop: threading.Event | None = None, clock: Clock | None = None,
                observer: RunObserver | None = None, reader: ProcReader | None = None,
                uss_every: int = 10) -> MonitorResult:
    clock = clock or SystemClock()
    reader = reader or default_reader()
    observer = observer or NullObserver()
    stop = stop or threading.Event()
    first = reader.read(pid)
    if first is None or first.zombie:
        raise UsageError(f"--pid {pid}: no such running process")
    tree = ProcessTree(reader)
    tree.set_root(pid)
    try:
        ensure_dir(out.parent)
    except OSError as exc:
        raise PathError.from_os_error("--out", exc.filename or out.parent, exc) from None
    sampler = ProcessTreeSampler(reader, tree, name=f"pid-{pid}", disk_path=out.parent,
                                 uss_every=uss_every, clock=clock)
    t0 = clock.monotonic()
    deadline = t0 + duration_s if duration_s is not None else float("inf")
    k = 0
    reason = "interrupted"
    try:
        sink_cm = JsonlSink(out)
    except OSError as exc:
        raise PathError.from_os_error("--out", out, exc) from None
    with sink_cm as sink:
        while not stop.is_set():
            root = reader.read(pid)
            if root is None or root.zombie or root.start != first.start:
                reason = "exited"
                break
            now = clock.monotonic()
            if now >= deadline:
                reason = "duration_reached"
                break
            sample = sampler.sample()
            sink.write(sample)
            observer.on_sample(sample)
            k = max(k + 1, int((clock.monotonic() - t0) / interval_s) + 1)
            clock.wait(stop, min(t0 + k * interval_s, deadline) - clock.monotonic())
        return MonitorResult(sink.lines, reason)
