"""Starting, watching, stopping and reaping supervised processes.

The :class:`Supervisor` owns every child of soakctl. It spawns each process in its own process
group with its stdout/stderr piped into a rotating log, registers it with the guard, and is the
only place that waits for children: one ``waitpid(-1)`` loop dispatches each exit to its handle
and counts everything else as an orphan reaped (``zombie_reaped``). Stopping is always the same
three steps: the stop signal to the group, a grace period, then SIGKILL to every member of the
tree that is still alive, grandchildren and adopted orphans included. On Windows every tree also
lives in a kill-on-close job object (:mod:`soakctl.winjob`): its members are adopted into the
tree, the hard end of a stop is ``TerminateJobObject``, and soakctl's death ends them all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

import psutil

from soakctl import platform as plat
from soakctl import winjob
from soakctl.clock import Clock
from soakctl.commands import resolve_command
from soakctl.contracts import Event
from soakctl.errors import SupervisorError
from soakctl.logpipe import PipePump, RotatingLogFile
from soakctl.proctree import ProcessTree, ProcReader

logger = logging.getLogger(__name__)

class Emit(Protocol):
    """Writes one ``events.jsonl`` record: ``{"ts", "event", "name", **fields}``."""

    def __call__(self, event: Event, name: str, **fields: Any) -> None: ...


@dataclass
class ProcessHandle:
    name: str
    argv: list[str]
    popen: subprocess.Popen[bytes]
    tree: ProcessTree
    log: RotatingLogFile
    stop_signal: str
    stop_timeout_s: float
    started_mono: float
    attempt: int = 0
    returncode: int | None = None
    stopping: bool = False
    pumps: list[PipePump] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.returncode is None


@dataclass(frozen=True)
class ExitInfo:
    handle: ProcessHandle
    returncode: int
    runtime_s: float
    expected: bool


class Guard:
    """Client side of :mod:`soakctl.guard`; a no-op where it is not supported."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        if plat.WINDOWS:  # pragma: no cover - Windows: job objects do this (soakctl.winjob)
            return
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "soakctl.guard"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _send(self, line: str) -> None:
        if self._proc is None or self._proc.stdin is None:
            return
        with self._lock:
            try:
                self._proc.stdin.write(line.encode() + b"\n")
                self._proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                logger.warning("the guard process is gone; a SIGKILL of soakctl may leak processes")
                self._proc = None

    def watch_group(self, pgid: int) -> None:
        self._send(f"pg {pgid}")

    def watch_pid(self, pid: int, start: float) -> None:
        self._send(f"pid {pid} {int(start)}")

    def forget_pid(self, pid: int) -> None:
        self._send(f"drop {pid}")

    def close(self) -> subprocess.Popen[bytes] | None:
        """Tell the guard all is well and let it exit; returns the Popen for reaping."""
        proc = self._proc
        self._send("done")
        if proc is not None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        self._proc = None
        return proc


class Supervisor:
    def __init__(self, logs_dir: Path, *, clock: Clock, reader: ProcReader, emit: Emit,
                 max_log_bytes: int, keep_logs: int) -> None:
        self.logs_dir = logs_dir
        self._clock = clock
        self._reader = reader
        self._emit = emit
        self._max_log_bytes = max_log_bytes
        self._keep_logs = keep_logs
        self.subreaper = plat.become_subreaper()
        self.guard = Guard()
        self.jobs = winjob.job_set()
        self.handles: list[ProcessHandle] = []
        self.generation = 0  # changes whenever a supervised root starts or exits
        self.logs: dict[str, RotatingLogFile] = {}
        self.zombies_reaped = 0
        self._guarded: set[tuple[int, float]] = set()
        self._guarded_version: tuple[int, int] = (0, -1)
        self._guard_pid = self.guard.pid
        self._adopt_marker: bytes | None = None

    # -- starting ---------------------------------------------------------------------------
    def spawn(self, name: str, argv: list[str], *, env: dict[str, str], cwd: str | None,
              stop_signal: str, stop_timeout_s: float, attempt: int = 0,
              tree: ProcessTree | None = None) -> ProcessHandle:
        log = self.logs.get(name)
        if log is None:
            log = RotatingLogFile(
                self.logs_dir / f"{name}.log", max_bytes=self._max_log_bytes,
                keep=self._keep_logs, on_rotate=self._on_rotate(name),
            )
            self.logs[name] = log
        argv = resolve_command(argv, env)
        try:
            popen = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=env, cwd=cwd, **self.jobs.popen_kwargs(plat.popen_kwargs()),
            )
        except OSError as exc:
            reason = exc.strerror or exc
            raise SupervisorError(f"{name}: cannot start {argv[0]!r}: {reason}") from exc
        try:
            self.jobs.admit(name, popen)  # Windows: into the job before it runs (no-op on POSIX)
        except winjob.JobError as exc:  # pragma: no cover - Windows only
            popen.communicate(timeout=10)
            raise SupervisorError(
                f"{name}: cannot start {argv[0]!r} in a job object: {exc}") from exc
        self.guard.watch_group(popen.pid)
        tree = tree or ProcessTree(self._reader)
        tree.set_root(popen.pid)
        handle = ProcessHandle(
            name=name, argv=argv, popen=popen, tree=tree, log=log, stop_signal=stop_signal,
            stop_timeout_s=stop_timeout_s, started_mono=self._clock.monotonic(), attempt=attempt,
        )
        for stream, label in ((popen.stdout, "out"), (popen.stderr, "err")):
            assert stream is not None
            pump = PipePump(cast(BinaryIO, stream), log, f"{name}-{label}")
            pump.start()
            handle.pumps.append(pump)
        # A restart replaces the dead incarnation: keep one handle per name, so a target that
        # restarts all day does not grow soakctl.
        self.handles = [h for h in self.handles if h.name != name or h.alive]
        self.handles.append(handle)
        self.generation += 1
        self._emit(Event.START, name, pid=popen.pid, argv=argv, attempt=attempt,
                   create_time=_create_time(popen.pid))
        return handle

    def _on_rotate(self, name: str) -> Callable[[Path, int, Path | None], None]:
        def rotated(path: Path, size: int, dropped: Path | None) -> None:
            self._emit(Event.LOG_ROTATED, name, file=path.name, bytes=size,
                       dropped=dropped.name if dropped is not None else None)

        return rotated

    # -- watching ---------------------------------------------------------------------------
    def poll(self) -> list[ExitInfo]:
        """Reap every exited child; return the exits of supervised roots."""
        exits: list[ExitInfo] = []
        if plat.WINDOWS:  # pragma: no cover - Windows only
            for handle in [h for h in self.handles if h.alive]:
                code = handle.popen.poll()
                if code is not None:
                    exits.append(self._exited(handle, code))
            return exits
        reaped = plat.reap_any()
        if not reaped:
            return exits  # the common case, every tick: nothing exited
        by_pid = {h.pid: h for h in self.handles if h.alive}
        for pid, code in reaped:
            owner = by_pid.get(pid)
            if owner is not None:
                owner.popen.returncode = code  # we reaped it; keep Popen consistent
                exits.append(self._exited(owner, code))
            elif pid == self._guard_pid:
                self._guard_pid = None
            else:
                self.zombies_reaped += 1
                self._emit(Event.ZOMBIE_REAPED, self._owner_of(pid), pid=pid, returncode=code)
        return exits

    def _exited(self, handle: ProcessHandle, code: int) -> ExitInfo:
        handle.returncode = code
        self.generation += 1
        runtime = self._clock.monotonic() - handle.started_mono
        info = ExitInfo(handle, code, runtime, expected=handle.stopping)
        self._emit(Event.EXIT, handle.name, pid=handle.pid, returncode=code,
                   runtime_s=round(runtime, 3), expected=handle.stopping)
        return info

    def _owner_of(self, pid: int) -> str:
        for handle in self.handles:
            if pid in handle.tree.pids():
                return handle.name
        return "soakctl"

    def adopt_orphans(self, trees: dict[str, ProcessTree], target: str,
                      marker: bytes | None = None) -> None:
        """Give children of soakctl that no tree knows to the tree they came from.

        An orphan is reparented to us (the subreaper) only after its parent died; it belongs to
        the tree whose session it is in, else (a daemon that called setsid) to the target.
        ``marker``: the reader's spawn marker, read just now (by a tree's refresh); None: read
        it here.
        """
        for name, tree in trees.items():  # Windows: the job is the tree, orphans included
            job_pids = self.jobs.pids(name)  # [] where there are no job objects
            if job_pids:
                known_pids = set(tree.pids())
                for pid in job_pids:
                    if pid not in known_pids:
                        tree.adopt(pid)
        if not self.subreaper:
            return
        if marker is None:
            marker = self._reader.spawn_marker()
        if marker is not None and marker == self._adopt_marker:
            return  # no process was created since the last look: no unknown orphan either
        self._adopt_marker = marker
        known = {h.pid for h in self.handles}
        if self._guard_pid is not None:
            known.add(self._guard_pid)
        members = {pid for t in trees.values() for pid in t.pids()}
        for pid in self._reader.children(os.getpid()):
            if pid in known or pid in members:
                continue
            reading = self._reader.read(pid)
            if reading is None:
                continue
            owner = next((n for n, t in trees.items() if t.root_session == reading.session), target)
            if owner in trees:
                trees[owner].adopt(pid)

    def guard_members(self, tree: ProcessTree) -> None:
        """Keep the guard's list equal to the tree: send new members, drop departed ones."""
        seen = (id(tree), tree.version)
        if seen == self._guarded_version:
            return  # membership unchanged since the last call
        self._guarded_version = seen
        current = {(pid, start) for pid in tree.pids() if (start := tree.start_of(pid)) is not None}
        for pid, start in current - self._guarded:
            self.guard.watch_pid(pid, start)
        for pid, _start in self._guarded - current:
            self.guard.forget_pid(pid)
        self._guarded = current

    # -- stopping ---------------------------------------------------------------------------
    def stop(self, handle: ProcessHandle, reason: str, *, hurry: threading.Event | None = None,
             on_exit: Callable[[ExitInfo], None] | None = None) -> None:
        """Stop signal to the group, grace period, then SIGKILL whatever is left of the tree."""
        members = set(handle.tree.pids())
        handle.tree.refresh()
        members |= set(handle.tree.pids())
        if handle.alive:
            handle.stopping = True
            signum = plat.resolve_signal(handle.stop_signal)
            self._emit(Event.STOP, handle.name, reason=reason, signal=handle.stop_signal)
            plat.send_stop(handle.pid, signum)
            deadline = self._clock.monotonic() + handle.stop_timeout_s
            wake = threading.Event()
            while handle.alive and self._clock.monotonic() < deadline:
                if hurry is not None and hurry.is_set():
                    break
                self._clock.wait(wake, 0.05)
                for info in self.poll():
                    if on_exit is not None:
                        on_exit(info)
        handle.tree.refresh()
        members |= set(handle.tree.pids()) | set(self.jobs.pids(handle.name))
        alive = [pid for pid in members if self._reader.read(pid) is not None]
        leftovers = [p for p in alive if not _is_zombie(self._reader, p)]
        if leftovers:
            self._emit(Event.KILL, handle.name, pids=sorted(leftovers))
        self.jobs.terminate(handle.name)  # Windows: TerminateJobObject (no-op on POSIX)
        for pid in leftovers:
            plat.kill_pid(pid)
        if not plat.WINDOWS:
            plat.kill_group(handle.pid)
        self._wait_gone(handle, members, on_exit)
        for pump in handle.pumps:
            pump.join(timeout=5.0)

    def _wait_gone(self, handle: ProcessHandle, members: set[int],
                   on_exit: Callable[[ExitInfo], None] | None) -> None:
        wake = threading.Event()
        deadline = self._clock.monotonic() + 5.0
        while self._clock.monotonic() < deadline:
            for info in self.poll():
                if on_exit is not None:
                    on_exit(info)
            still = [p for p in members if self._reader.read(p) is not None]
            if not still and not handle.alive:
                return
            self._clock.wait(wake, 0.02)
        if handle.alive and plat.WINDOWS:  # pragma: no cover - Windows only
            code = handle.popen.wait(timeout=5)
            self._exited(handle, code)

    def sweep(self) -> list[int]:
        """Kill and reap every remaining child of soakctl except the guard; return their pids."""
        if plat.WINDOWS:  # pragma: no cover - Windows only
            return self.jobs.sweep()
        leftovers = [p for p in self._reader.children(os.getpid()) if p != self._guard_pid]
        for pid in leftovers:
            plat.kill_pid(pid)
        wake = threading.Event()
        deadline = self._clock.monotonic() + 5.0
        while leftovers and self._clock.monotonic() < deadline:
            self.poll()
            leftovers = [p for p in leftovers if self._reader.read(p) is not None]
            if leftovers:
                self._clock.wait(wake, 0.02)
        return leftovers

    def close(self) -> None:
        for log in self.logs.values():
            log.close()
        self.jobs.close()
        proc = self.guard.close()
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _is_zombie(reader: ProcReader, pid: int) -> bool:
    reading = reader.read(pid)
    return reading is None or reading.zombie


def _create_time(pid: int) -> float | None:
    """Epoch start time of ``pid`` as psutil reports it: with the pid, the identity
    ``soakctl cleanup`` checks before it ends a process left by an earlier run."""
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None
