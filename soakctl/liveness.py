"""Liveness probes on the target: is it still doing its job, not merely alive?

As Docker's HEALTHCHECK and Kubernetes' liveness probes: every ``every`` a probe runs (an HTTP
GET that must answer 2xx, a command that must exit 0 within ``timeout``, or a log line matching
a regex written since the previous probe); probes during ``start_period`` after each (re)start
do not count; ``failures`` consecutive failed probes make the target *unhealthy*, and the run
restarts it if its restart policy allows (see ``soakctl.runner``).

A probe runs in a short-lived worker thread so a slow endpoint never delays a sample; the run
loop calls :meth:`LivenessMonitor.poll` each tick and handles the finished results on its own
thread (events, counters, restarts). Every failed probe is a :class:`ProbeResult` with
``ok=False``; the count of them is the ``liveness_failures`` sample field.
"""

from __future__ import annotations

import re
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from soakctl.commands import resolve_command
from soakctl.contracts import Event
from soakctl.profile import Liveness

if TYPE_CHECKING:
    from soakctl.runner import SoakRun

MAX_LOG_READ_BYTES = 8 << 20  # per probe: a log flood must not stall the probe thread


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str
    duration_s: float


class LogWatcher:
    """Tails one log file from where it was when created; ``seen()`` says if REGEX appeared."""

    def __init__(self, path: Path, pattern: str) -> None:
        self.path = path
        self._regex = re.compile(pattern.encode())
        self._offset = path.stat().st_size if path.exists() else 0
        self._carry = b""

    def seen(self) -> bool:
        try:
            size = self.path.stat().st_size
        except OSError:
            return False
        if size < self._offset:  # rotated: the new file is read from its start
            self._offset, self._carry = 0, b""
        found = False
        try:
            with self.path.open("rb") as fh:
                fh.seek(self._offset)
                data = fh.read(MAX_LOG_READ_BYTES)
        except OSError:
            return False
        self._offset += len(data)
        lines = (self._carry + data).split(b"\n")
        self._carry = lines.pop()[-4096:]
        for line in lines:
            if self._regex.search(line):
                found = True
                break
        return found


def run_probe(spec: Liveness, expand: Callable[[str], str],
              expand_argv: Callable[[list[str]], list[str]], env: dict[str, str],
              log: LogWatcher | None, monotonic: Callable[[], float]) -> ProbeResult:
    """One probe; never raises (a broken probe is a failed probe, with the reason)."""
    started = monotonic()

    def done(ok: bool, detail: str) -> ProbeResult:
        return ProbeResult(ok, detail, round(monotonic() - started, 3))

    try:
        if spec.http is not None:
            url = expand(spec.http)
            if not url.startswith(("http://", "https://")):
                return done(False, f"not an http(s) URL: {url!r}")
            try:
                with urllib.request.urlopen(url, timeout=spec.timeout_s) as resp:  # noqa: S310
                    ok = 200 <= resp.status < 300
                    return done(ok, f"HTTP {resp.status}")
            except urllib.error.HTTPError as exc:
                return done(False, f"HTTP {exc.code}")
            except (OSError, ValueError) as exc:
                reason = getattr(exc, "reason", None) or exc
                return done(False, f"{type(exc).__name__}: {reason}"[:200])
        if spec.command is not None:
            argv = resolve_command(expand_argv(list(spec.command)), env)
            try:
                proc = subprocess.run(
                    argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, env=env, timeout=spec.timeout_s, check=False,
                )
            except subprocess.TimeoutExpired:
                return done(False, f"timed out after {spec.timeout_s:g}s")
            except OSError as exc:
                return done(False, f"cannot run {argv[0]!r}: {exc.strerror or exc}")
            return done(proc.returncode == 0, f"exit {proc.returncode}")
        if log is not None:
            ok = log.seen()
            return done(ok, "log line seen" if ok else "no matching log line since last probe")
        return done(True, "no probe")
    except Exception as exc:  # a probe's own bug must never take the run down
        return done(False, f"probe error: {type(exc).__name__}: {exc}"[:200])


class LivenessMonitor:
    """Schedules probes on the monotonic clock and keeps the consecutive-failure count."""

    def __init__(self, spec: Liveness, probe: Callable[[], ProbeResult],
                 monotonic: Callable[[], float]) -> None:
        self.spec = spec
        self._probe = probe
        self._monotonic = monotonic
        self.failures_total = 0
        self.consecutive = 0
        self._started = monotonic()
        self._next = self._started
        self._worker: threading.Thread | None = None
        self._result: ProbeResult | None = None
        self._paused = False

    def restarted(self) -> None:
        """The target (re)started: a new start period, a clean consecutive count."""
        self._started = self._monotonic()
        self._next = self._started
        self.consecutive = 0
        self._paused = False

    def pause(self) -> None:
        """The target is down (waiting for a restart): probes would only fail."""
        self._paused = True

    def poll(self) -> ProbeResult | None:
        """A finished probe that counts (None otherwise); starts the next one when due."""
        finished: ProbeResult | None = None
        if self._worker is not None and not self._worker.is_alive():
            self._worker = None
            finished, self._result = self._result, None
        now = self._monotonic()
        if self._worker is None and not self._paused and now >= self._next:
            self._next = now + self.spec.every_s
            self._worker = threading.Thread(target=self._run, name="liveness", daemon=True)
            self._worker.start()
        if finished is None or self._paused:
            return None
        in_start_period = now - self._started < self.spec.start_period_s
        if finished.ok:
            self.consecutive = 0
            return finished
        if in_start_period:
            return None
        self.consecutive += 1
        self.failures_total += 1
        return finished

    @property
    def unhealthy(self) -> bool:
        return self.consecutive >= self.spec.failures

    def _run(self) -> None:
        self._result = self._probe()

    def join(self, timeout_s: float) -> None:
        if self._worker is not None:
            self._worker.join(timeout_s)


# -- the run-loop hooks (kept here so soakctl.runner stays a few lines) ---------------------------
def start_liveness(run: SoakRun) -> LivenessMonitor | None:
    """The target's monitor, or None when the profile has no ``target.liveness``."""
    spec = run.target_spec.liveness
    if spec is None:
        return None
    log = None
    if spec.log is not None:
        log = LogWatcher(run.run_dir / "logs" / "target.log", spec.log)
    env = run._env(run.target_spec.env)
    monitor = LivenessMonitor(
        spec, lambda: run_probe(spec, run._expand, run._expand_argv, env, log,
                                run.clock.monotonic),
        run.clock.monotonic,
    )
    run._meta["liveness"] = spec.model_dump(by_alias=True, exclude_none=True)
    return monitor


def check_liveness(run: SoakRun, monitor: LivenessMonitor) -> None:
    """Handle a finished probe: an event per failure; restart when unhealthy and allowed."""
    result = monitor.poll()
    if result is None or result.ok:
        return
    run._emit(Event.LIVENESS_FAILED, "target", detail=result.detail,
              consecutive=monitor.consecutive, failures=monitor.failures_total,
              duration_s=result.duration_s)
    if monitor.consecutive != monitor.spec.failures:
        return  # not unhealthy yet, or already handled for this episode
    policy = run.target_spec.restart
    action = "none" if policy == "never" else "restart"
    run._emit(Event.UNHEALTHY, "target", consecutive=monitor.consecutive, action=action,
              restart_policy=policy)
    if action == "none" or run._target is None or not run._target.alive:
        return
    monitor.pause()
    run.sup.stop(run._target, "unhealthy", hurry=run._hurry, on_exit=run._on_exit_late)
    run._unexpected_exit = True
    run._schedule_restart("unhealthy", reason="unhealthy")
