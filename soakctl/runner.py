"""One soak run, start to finish: services, target, sampling loop, restarts, disk guard, stop.

:class:`SoakRun` creates the run directory, starts the profile's services (waiting for each to
be ready), starts the target and then runs a single loop on the monotonic clock: reap exits,
restart with backoff, take a sample on schedule (``t0 + k * interval``, never ``sleep`` after
work, so there is no drift), guard the disk, flush logs. It ends at the planned duration, when
the target ends for good, on ``request_stop`` (signals) or when the disk is critically low, and
always leaves complete files behind: the target tree stopped, ``after`` checks run, services
stopped, orphans swept, ``run.json`` final.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soakctl import __version__
from soakctl.backoff import ExponentialBackoff
from soakctl.cleanup import own_identity
from soakctl.clock import Clock, SystemClock
from soakctl.commands import resolve_command
from soakctl.contracts import SCHEMA_VERSION, Event, ExitReason, RunJson
from soakctl.diagnose import Diagnoser, start_diagnose
from soakctl.errors import PathError, ProfileError, SoakError, SupervisorError, WriteFailed
from soakctl.live_eval import LiveEvaluator, after_sample, start_live
from soakctl.liveness import LivenessMonitor, check_liveness, start_liveness
from soakctl.observer import NullObserver, RunObserver
from soakctl.placeholders import expand, expand_all
from soakctl.procfs import default_reader
from soakctl.proctree import ProcessTree, ProcReader
from soakctl.profile import Profile, Service, Target
from soakctl.rundir import dir_size, host_info, make_run_dir, write_json_atomic
from soakctl.runsecrets import RunSecrets
from soakctl.sample import ProcessTreeSampler, disk_free
from soakctl.scrape import MetricsScraper
from soakctl.services import probe
from soakctl.sink import JsonlSink
from soakctl.supervise import ExitInfo, ProcessHandle, Supervisor
from soakctl.wake import ExitWaker

logger = logging.getLogger(__name__)

TICK_S = 0.5  # how often exits are reaped between samples, without an ExitWaker
#: with an ExitWaker exits wake the loop at once; it still wakes this often for housekeeping
#: (log flushes, finished liveness probes) when samples are further apart
IDLE_TICK_S = 1.0
DISK_LOW_REPEAT_S = 60.0
AFTER_TIMEOUT_S = 300.0
# Disk space held from the start and given back when a write fails (disk full), so the run can
# still write its stop events and a final run.json saying why it ended.
RESERVE_BYTES = 64 * 1024


@dataclass(frozen=True)
class RunOptions:
    profile: Profile
    out_dir: Path = Path("artifacts/soak")
    profile_path: str | None = None
    command: list[str] | None = None
    duration_s: float | None = None
    interval_s: float | None = None
    uss_every: int = 10
    seed: int | None = None


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    exit_reason: ExitReason = ExitReason.DURATION_REACHED
    interrupted: bool = False
    unexpected_exit: bool = False
    restarts: int = 0
    samples: int = 0
    error: str | None = None
    meta: RunJson | None = None


class SoakRun:
    def __init__(self, options: RunOptions, *, clock: Clock | None = None,
                 observer: RunObserver | None = None, reader: ProcReader | None = None) -> None:
        profile = options.profile
        target = profile.target
        if options.command:
            target = (target or Target(command=options.command)).model_copy(
                update={"command": list(options.command)}
            )
        if target is None:
            raise ProfileError("target.command: required key is missing (or give -- CMD ARGS...)")
        self.options = options
        self.profile = profile
        self.target_spec: Target = target
        self.duration_s = (
            profile.duration_s if options.duration_s is None else options.duration_s
        )
        self.interval_s = (
            profile.interval_s if options.interval_s is None else options.interval_s
        )
        self.clock = clock or SystemClock()
        self.observer: RunObserver = observer or NullObserver()
        self.reader = reader or default_reader()
        self._stop = threading.Event()
        self._hurry = threading.Event()
        self._stop_reason: ExitReason | None = None
        self._interrupted = False
        self._service_values: dict[str, dict[str, Any]] = {}
        self._ports: dict[str, int] = {}
        self._services: list[tuple[Service, ProcessHandle]] = []
        self._target: ProcessHandle | None = None
        self._target_tree: ProcessTree | None = None
        self._trees_cache: dict[str, ProcessTree] | None = None
        self._restart_at: float | None = None
        self._restarts = 0
        self._unexpected_exit = False
        self._ended: ExitReason | None = None
        self._last_disk_low = -1e18
        self._write_failed: WriteFailed | None = None
        self._liveness: LivenessMonitor | None = None
        self._live: LiveEvaluator | None = None
        self._diagnose: Diagnoser | None = None
        # The loop sleeps in one poll() on the roots' pidfds (soakctl.wake); None: it polls
        # every TICK_S. Made where the loop starts, closed where it ends.
        self._waker: ExitWaker | None = None
        self._backoff = ExponentialBackoff(
            base_s=target.backoff.base_s, max_s=target.backoff.max_s,
            jitter=target.backoff.jitter, reset_after_s=target.backoff.reset_after_s,
            rng=random.Random(options.seed),  # noqa: S311 - jitter, not crypto
        )

    # -- control ----------------------------------------------------------------------------
    def request_stop(self, reason: ExitReason, *, interrupted: bool = False) -> None:
        """Ask the run to stop gracefully; a second interrupt skips the grace periods."""
        if interrupted:
            if self._interrupted:
                self._hurry.set()
            self._interrupted = True
        if self._stop_reason is None:
            self._stop_reason = reason
        self._stop.set()
        waker = self._waker  # may run in a signal handler while _shutdown closes it
        if waker is not None:
            waker.wake()

    # -- the run ----------------------------------------------------------------------------
    def execute(self) -> RunResult:
        try:
            run_id, run_dir = make_run_dir(self.options.out_dir, self.clock.time())
        except OSError as exc:
            raise PathError.from_os_error("--out", exc.filename or self.options.out_dir,
                                          exc) from None
        self.run_dir = run_dir
        result = RunResult(run_id, run_dir)
        try:
            self._events = JsonlSink(run_dir / "events.jsonl")
            self._resources = JsonlSink(run_dir / "resources.jsonl")
            self._write_meta_first(run_id, run_dir)
        except OSError as exc:  # nothing started yet: still bad input
            raise PathError.from_os_error("--out", exc.filename or run_dir, exc) from None
        self.observer.on_start({
            "run_id": run_id, "run_dir": str(run_dir), "profile": self.profile.name,
            "duration_s": self.duration_s, "interval_s": self.interval_s,
            "command": list(self.target_spec.command),
        })
        self.sup = Supervisor(
            run_dir / "logs", clock=self.clock, reader=self.reader, emit=self._emit,
            max_log_bytes=self.profile.logs.max_bytes, keep_logs=self.profile.logs.keep,
        )
        return self._supervise(result)

    def _write_meta_first(self, run_id: str, run_dir: Path) -> None:
        start_ts = self.clock.time()
        self._meta: RunJson = {
            "schema": SCHEMA_VERSION, "soakctl_version": __version__, "run_id": run_id,
            "profile": self.profile.name, "profile_path": self.options.profile_path,
            "commands": {"target": list(self.target_spec.command), "services": {}, "after": []},
            "host": host_info(), "start_ts": start_ts, "end_ts": None,
            "planned_duration_s": self.duration_s, "interval_s": self.interval_s,
            "exit_reason": None, "unexpected_exit": False, "interrupted": False, "restarts": 0,
            "zombies_reaped": 0, "after_checks": [], "criteria": list(self.profile.criteria),
            "samples": 0, "artifacts_bytes": 0,
            "log_error_levels": list(self.profile.logs.error_levels),
            "soakctl_process": own_identity(),  # for `soakctl cleanup` after a crash
        }
        if self.profile.leak_series is not None:
            self._meta["leak_series"] = list(self.profile.leak_series)
        write_json_atomic(run_dir / "run.json", self._meta)
        self._reserve = run_dir / ".space-reserve"
        with open(self._reserve, "wb") as fh:  # freed when a write fails, for the final files
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(fh.fileno(), 0, RESERVE_BYTES)
            else:  # pragma: no cover - Windows
                fh.write(bytes(RESERVE_BYTES))

    def _supervise(self, result: RunResult) -> RunResult:
        error: SoakError | None = None
        scraper: MetricsScraper | None = None
        self._secrets = RunSecrets.lazy()  # {secrets_dir}: outside the run dir, removed below
        try:
            self._start_services()
            self._start_target(attempt=0)
            self._liveness = start_liveness(self)
            self._live = start_live(self)
            self._diagnose = start_diagnose(self)
            scraper = self._start_scraper()
            self._loop(scraper)
        except SoakError as exc:
            error = exc
            self._ended = self._ended or ExitReason.START_FAILED
            self._meta["error"] = str(exc)
        finally:
            if scraper is not None:
                scraper.stop()
            self._shutdown()
            self._secrets.remove(self.run_dir)
            result.exit_reason = self._ended or ExitReason.DURATION_REACHED
            result.interrupted = self._interrupted
            result.unexpected_exit = self._unexpected_exit
            result.restarts = self._restarts
            result.samples = self._resources.lines
            result.error = str(error) if error else None
            if self._write_failed is not None:
                result.error = str(self._write_failed)
            self._finish_meta(result)
            result.meta = self._meta
            self.observer.on_finish(dict(self._meta, run_dir=str(self.run_dir)))
        if error is not None:
            raise error
        return result

    def _expand(self, text: str) -> str:
        return expand(text, str(self.run_dir), self._service_values, self._ports,
                      self._secrets.ensure)

    def _expand_argv(self, argv: list[str]) -> list[str]:
        return expand_all(argv, str(self.run_dir), self._service_values, self._ports,
                          self._secrets.ensure)

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        env.update({k: self._expand(v) for k, v in extra.items()})
        return env

    def _start_services(self) -> None:
        try:
            self._start_each_service()
        except SoakError:
            self._ended = self._ended or ExitReason.SERVICE_FAILED
            raise

    def _start_each_service(self) -> None:
        for service in self.profile.services:
            argv = self._expand_argv(service.command)
            self._meta["commands"]["services"][service.name] = argv
            handle = self.sup.spawn(
                service.name, argv, env=self._env(service.env),
                cwd=self._expand(service.cwd) if service.cwd else None,
                stop_signal=service.stop_signal, stop_timeout_s=service.stop_timeout_s,
            )
            self._services.append((service, handle))
            self._wait_ready(service, handle)

    def _wait_ready(self, service: Service, handle: ProcessHandle) -> None:
        values: dict[str, Any] = {}
        if service.ready is not None:
            started = self.clock.monotonic()
            deadline = started + service.ready.timeout_s
            while True:
                ok, values = probe(service.ready, self._expand)
                if ok:
                    break
                self.sup.poll()
                if not handle.alive:
                    raise SupervisorError(
                        f"service {service.name!r} exited with {handle.returncode} before it was "
                        f"ready (see {handle.log.path})"
                    )
                if self._stop.is_set():
                    raise SupervisorError(f"service {service.name!r}: interrupted while starting")
                if self.clock.monotonic() >= deadline:
                    raise SupervisorError(
                        f"service {service.name!r} not ready after {service.ready.timeout_s:g}s "
                        f"(see {handle.log.path})"
                    )
                self.clock.wait(self._stop, 0.05)
            self._emit(Event.READY, service.name,
                       duration_s=round(self.clock.monotonic() - started, 3))
        self._service_values[service.name] = {str(k): v for k, v in values.items()}

    def _start_target(self, attempt: int) -> None:
        spec = self.target_spec
        argv = self._expand_argv(spec.command)
        self._meta["commands"]["target"] = argv
        self._target = self.sup.spawn(
            "target", argv, env=self._env(spec.env),
            cwd=self._expand(spec.cwd) if spec.cwd else None, stop_signal=spec.stop_signal,
            stop_timeout_s=spec.stop_timeout_s, attempt=attempt, tree=self._target_tree,
        )
        self._target_tree = self._target.tree
        if self._liveness is not None:
            self._liveness.restarted()

    def _start_scraper(self) -> MetricsScraper | None:
        url = self.profile.metrics_url
        if not url:
            return None
        url = self._expand(url)
        if not url.startswith(("http://", "https://")):
            raise ProfileError(f"metrics_url: expected an http(s) URL, got {url!r}")
        scraper = MetricsScraper(url, self.interval_s, clock=self.clock)
        scraper.start()
        return scraper

    # -- the loop ---------------------------------------------------------------------------
    def _loop(self, scraper: MetricsScraper | None) -> None:
        assert self._target_tree is not None
        sampler = ProcessTreeSampler(
            self.reader, self._target_tree, name="target", disk_path=self.run_dir,
            uss_every=self.options.uss_every, clock=self.clock,
            log_bytes=lambda: sum(log.total_bytes for log in self.sup.logs.values()),
            restarts=lambda: self._restarts,
            metrics=scraper.latest if scraper is not None else None,
        )
        waker = self._waker = (
            ExitWaker.create() if isinstance(self.clock, SystemClock) else None)
        try:
            if waker is not None:
                waker.catch_child_exits()  # reap only after a SIGCHLD (main thread only)
            self._loop_until_done(sampler, waker)
        finally:
            self._waker = None
            if waker is not None:
                waker.close()

    def _loop_until_done(self, sampler: ProcessTreeSampler, waker: ExitWaker | None) -> None:
        t0 = self.clock.monotonic()
        deadline = t0 + self.duration_s
        tick_s = TICK_S if waker is None else IDLE_TICK_S
        k = 0
        watched = -1  # the supervisor's generation of roots the waker watches
        while True:
            watched = self._reap(waker, watched)
            now = self.clock.monotonic()
            if self._ended is not None or self._stop.is_set():
                break
            if now >= deadline:
                self._ended = ExitReason.DURATION_REACHED
                break
            if self._restart_at is not None and now >= self._restart_at:
                self._restart_at = None
                self._start_target(attempt=self._backoff.attempt)
            if self._liveness is not None:
                check_liveness(self, self._liveness)
            next_sample = t0 + k * self.interval_s
            if now >= next_sample:
                self._take_sample(sampler)
                # Schedule on the grid; if we fell behind, skip the missed slots, never bunch up.
                k = max(k + 1, int((now - t0) / self.interval_s) + 1)
                next_sample = t0 + k * self.interval_s
            for log in self.sup.logs.values():
                log.flush()
                if log.write_error is not None:
                    self._on_write_failed(log.write_error)
            wake_at = min(next_sample, deadline, now + tick_s)
            if self._restart_at is not None:
                wake_at = min(wake_at, self._restart_at)
            if waker is not None:
                if not self._stop.is_set():
                    waker.wait(wake_at - self.clock.monotonic())
            else:
                self.clock.wait(self._stop, wake_at - self.clock.monotonic())
        if self._stop.is_set() and self._ended is None:
            self._ended = self._stop_reason or ExitReason.INTERRUPTED

    def _reap(self, waker: ExitWaker | None, watched: int) -> int:
        """Reap exited children (only after a SIGCHLD when the waker gets them) and keep the
        waker on the live roots; returns the supervisor generation now watched."""
        if waker is None or waker.take_child_exits():
            for info in self.sup.poll():
                self._on_exit(info)
        if waker is not None and watched != self.sup.generation:
            watched = self.sup.generation  # a root started or exited: watch the live ones
            waker.watch([h.pid for h in self.sup.handles if h.alive])
        return watched

    def _trees(self) -> dict[str, ProcessTree]:
        """Every supervised tree by name (the target's tree object survives its restarts)."""
        assert self._target_tree is not None
        cached = self._trees_cache
        if cached is None or cached["target"] is not self._target_tree:
            cached = self._trees_cache = {"target": self._target_tree} | {
                h.name: h.tree for _, h in self._services}
        return cached

    def _on_write_failed(self, exc: WriteFailed) -> None:
        """A run file could not be written (disk full, size limit, read-only): stop the run the
        normal way; what was written stays valid and run.json says why (exit_reason
        ``write_failed``, ``error``)."""
        if self._write_failed is not None:
            return
        self._write_failed = exc
        self._reserve.unlink(missing_ok=True)
        logger.info("%s; stopping the run", exc)  # the CLI says it, once
        self._meta["error"] = str(exc)
        self._ended = self._ended or ExitReason.WRITE_FAILED
        self._stop.set()

    def _take_sample(self, sampler: ProcessTreeSampler) -> None:
        assert self._target_tree is not None
        try:
            sample = sampler.sample()
            # Orphans given to soakctl since the last look join their tree for the next sample;
            # the refresh just read the spawn marker that says whether to look.
            self.sup.adopt_orphans(self._trees(), "target", self._target_tree.marker)
            self.sup.guard_members(self._target_tree)
        except Exception as exc:  # one bad sample must never end a 24 h run
            logger.exception("sample failed")
            self._emit(Event.SAMPLE_ERROR, "soakctl", error=f"{type(exc).__name__}: {exc}")
            return
        if self._liveness is not None:
            sample["liveness_failures"] = self._liveness.failures_total
        try:
            self._resources.write(sample)
        except WriteFailed as exc:
            self._on_write_failed(exc)
            return
        self.observer.on_sample(sample)
        if self._live is not None:
            after_sample(self, self._live, sample)
        if self._diagnose is not None:
            self._diagnose.on_sample(sample["elapsed_s"])
        self._guard_disk(sample["disk_free_bytes"])

    def _guard_disk(self, free: int) -> None:
        disk = self.profile.disk
        if free < disk.critical_free_bytes:
            self._emit(Event.DISK_CRITICAL, "soakctl", free_bytes=free,
                       critical_free_bytes=disk.critical_free_bytes)
            self.request_stop(ExitReason.DISK_CRITICAL)
            return
        if free >= disk.min_free_bytes:
            return
        pruned: list[str] = []
        for log in self.sup.logs.values():
            while free < disk.min_free_bytes:
                removed = log.prune_oldest()
                if removed is None:
                    break
                pruned.append(removed.name)
                free = disk_free(self.run_dir)
        now = self.clock.monotonic()
        if pruned or now - self._last_disk_low >= DISK_LOW_REPEAT_S:
            self._last_disk_low = now
            self._emit(Event.DISK_LOW, "soakctl", free_bytes=free,
                       min_free_bytes=disk.min_free_bytes, pruned=pruned)

    def _on_exit(self, info: ExitInfo) -> None:
        if info.handle is not self._target:
            if not info.expected:
                self._emit(Event.SERVICE_EXIT, info.handle.name, returncode=info.returncode)
            return
        if info.expected:
            return
        self._unexpected_exit = True
        spec = self.target_spec
        self._backoff.observe_runtime(info.runtime_s)
        wanted = spec.restart == "always" or (spec.restart == "on-failure" and info.returncode != 0)
        if not wanted:
            self._ended = ExitReason.TARGET_EXITED
            return
        self._schedule_restart(f"exited {info.returncode}", returncode=info.returncode)

    def _schedule_restart(self, why: str, **fields: Any) -> None:
        spec = self.target_spec
        if self._liveness is not None:
            self._liveness.pause()
        if self._backoff.attempt >= spec.max_restarts:
            self._emit(Event.GIVE_UP, "target", restarts=self._restarts,
                       reason=f"{why} after {spec.max_restarts} restarts")
            self._ended = ExitReason.GAVE_UP
            return
        attempt = self._backoff.attempt + 1
        delay = self._backoff.next_delay()
        self._restarts += 1
        self._restart_at = self.clock.monotonic() + delay
        self._emit(Event.RESTART, "target", attempt=attempt, delay_s=round(delay, 3), **fields)

    # -- the end ----------------------------------------------------------------------------
    def _shutdown(self) -> None:
        reason = self._stop_reason or self._ended or ExitReason.DURATION_REACHED
        target_started = self._target is not None
        if self._diagnose is not None and not self._hurry.is_set():
            self._diagnose.moment("end")  # while the target is still there to look at
        if self._target is not None:
            self.sup.stop(self._target, reason, hurry=self._hurry, on_exit=self._on_exit_late)
        if self._diagnose is not None:
            self._diagnose.finish()
        if target_started:
            self._run_after_checks()
        for _service, handle in reversed(self._services):
            self.sup.stop(handle, reason, hurry=self._hurry, on_exit=self._on_exit_late)
        leftovers = self.sup.sweep()
        if leftovers:
            self._emit(Event.KILL, "soakctl", pids=leftovers)
        self.sup.close()

    def _on_exit_late(self, info: ExitInfo) -> None:
        if info.handle is self._target and not info.expected:
            self._unexpected_exit = True

    def _run_after_checks(self) -> None:
        env = self._env(self.target_spec.env)
        for command in self.profile.after:
            argv = resolve_command(self._expand_argv(command), env)
            self._meta["commands"]["after"].append(argv)
            started = time.monotonic()
            try:
                with open(self.run_dir / "logs" / "after.log", "ab") as log:
                    proc = subprocess.run(
                        argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                        env=env, timeout=AFTER_TIMEOUT_S, check=False,
                    )
                code = proc.returncode
            except subprocess.TimeoutExpired:
                code = -int(getattr(signal, "SIGKILL", 9))
            except OSError as exc:
                logger.warning("after check %s could not start: %s", argv[0], exc)
                code = 127
            duration = round(time.monotonic() - started, 3)
            ok = code == 0
            self._meta["after_checks"].append(
                {"command": argv, "returncode": code, "ok": ok, "duration_s": duration})
            self._emit(Event.CHECK, "after", command=argv, returncode=code, ok=ok,
                       duration_s=duration)

    def _finish_meta(self, result: RunResult) -> None:
        self._reserve.unlink(missing_ok=True)
        self._events.close()
        self._resources.close()
        self._meta.update({
            "end_ts": self.clock.time(), "exit_reason": result.exit_reason,
            "unexpected_exit": result.unexpected_exit, "interrupted": result.interrupted,
            "restarts": result.restarts, "zombies_reaped": self.sup.zombies_reaped,
            "samples": result.samples,
        })
        self._meta["artifacts_bytes"] = dir_size(self.run_dir)
        try:
            write_json_atomic(self.run_dir / "run.json", self._meta)
        except OSError as exc:  # the first run.json (written at start) stays, whole
            self._on_write_failed(WriteFailed(self.run_dir / "run.json", exc))
            result.exit_reason = self._meta["exit_reason"] = ExitReason.WRITE_FAILED
            result.error = str(self._write_failed)

    def _emit(self, event: Event, name: str, **fields: Any) -> None:
        record = {"ts": round(self.clock.time(), 3), "event": event, "name": name, **fields}
        try:
            self._events.write(record)
        except WriteFailed as exc:
            self._on_write_failed(exc)
        self.observer.on_event(record)


@contextmanager
def stop_on_signals(run: SoakRun) -> Iterator[None]:
    """SIGINT/SIGTERM (and SIGBREAK on Windows) stop the run gracefully; restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = ["SIGINT", "SIGTERM", "SIGBREAK", "SIGHUP"]
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: object) -> None:
        run.request_stop(ExitReason.INTERRUPTED, interrupted=True)

    for name in names:
        signum = getattr(signal, name, None)
        if signum is not None:
            previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
