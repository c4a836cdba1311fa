"""Run progress for people: a rich live view on a terminal, plain status lines in CI logs.

Both implement :class:`soakctl.observer.RunObserver`. The plain view prints notable events as
they happen and one status line per ``every_s`` (a minute by default), so a 24 h CI log stays
readable (~1,440 lines).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from soakctl.contracts import Event, Sample
from soakctl.units import format_bytes, format_duration


def num(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"

NOTABLE = {Event.EXIT, Event.RESTART, Event.GIVE_UP, Event.KILL, Event.DISK_LOW,
           Event.DISK_CRITICAL, Event.SERVICE_EXIT, Event.SAMPLE_ERROR, Event.STOP, Event.READY,
           Event.CHECK, Event.LIVENESS_FAILED, Event.UNHEALTHY, Event.ABORT,
           Event.LEAK_SUSPECTED, Event.DIAGNOSE}


def leak_text(estimate: dict[str, Any]) -> str:
    """``leak? 12.3 MiB/h (CI 10.1 to 14.6) leak``: the live estimate in one phrase."""
    slope = estimate.get("slope_mib_per_hour")
    status = str(estimate.get("status", "")).replace("_", " ")
    if slope is None:
        return f"leak? {status} (not enough data yet)"
    lo, hi = estimate.get("ci_mib_per_hour") or (None, None)
    band = f" (CI {num(lo)} to {num(hi)})" if lo is not None and hi is not None else ""
    return f"leak? {num(slope)} MiB/h{band} {status}"


def _status(sample: Sample, duration_s: float) -> str:
    return (
        f"{format_duration(sample.get('elapsed_s', 0))}/{format_duration(duration_s)} "
        f"rss={format_bytes(sample.get('rss_bytes', 0))} cpu={sample.get('cpu_percent', 0):.1f}% "
        f"procs={sample.get('num_procs', 0)} threads={sample.get('num_threads', 0)} "
        f"fds={sample.get('num_fds', 0)} restarts={sample.get('restarts', 0)}"
    )


def _describe(event: dict[str, Any]) -> str:
    extra = {k: v for k, v in event.items() if k not in ("ts", "event", "name", "argv")}
    details = " ".join(f"{k}={v}" for k, v in extra.items())
    return f"{event['event']} {event['name']} {details}".rstrip()


class PlainObserver:
    def __init__(self, every_s: float = 60.0, stream: Any = None) -> None:
        self.every_s = every_s
        self.stream = stream or sys.stdout
        self._duration_s = 0.0
        self._last_print = -1e18
        self._leak = ""
        self._leak_status: Any = None

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def on_start(self, info: dict[str, Any]) -> None:
        self._duration_s = info["duration_s"]
        self._line(info["run_dir"])
        self._line(
            f"soak {info['profile']}: {' '.join(info['command'])} for "
            f"{format_duration(info['duration_s'])}, sampling every {info['interval_s']:g}s"
        )

    def on_sample(self, sample: Sample) -> None:
        now = time.monotonic()
        if now - self._last_print >= self.every_s:
            self._last_print = now
            status = _status(sample, self._duration_s)
            if self._leak:
                status += f" {self._leak}"
            self._line(status)

    def on_leak_estimate(self, estimate: dict[str, Any]) -> None:
        text = leak_text(estimate)
        if estimate.get("status") != self._leak_status:
            self._line(f"leak estimate: {text}")  # a change of status is news
        self._leak, self._leak_status = text, estimate.get("status")

    def on_event(self, event: dict[str, Any]) -> None:
        if event["event"] in NOTABLE:
            self._line(_describe(event))

    def on_finish(self, summary: dict[str, Any]) -> None:
        self._line(
            f"finished: {summary['exit_reason']} after "
            f"{format_duration(summary['end_ts'] - summary['start_ts'])}, "
            f"{summary['samples']} samples, {summary['restarts']} restarts, "
            f"{summary['zombies_reaped']} zombies reaped"
        )


class RichObserver:
    """Progress bar with elapsed/remaining, current RSS/CPU/procs/restarts and the last event."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.fields[elapsed]}"), TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"), console=self.console, transient=False,
        )
        self._task: Any = None
        self._duration_s = 0.0
        self._last_event = ""
        self._status = ""
        self._leak = ""

    def on_start(self, info: dict[str, Any]) -> None:
        self._duration_s = info["duration_s"]
        self.console.print(info["run_dir"], highlight=False, soft_wrap=True)
        self.console.print(
            f"[bold]soak[/] {info['profile']}: {' '.join(info['command'])} "
            f"for {format_duration(info['duration_s'])}", highlight=False,
        )
        self.progress.start()
        self._task = self.progress.add_task(
            "soak", total=max(info["duration_s"], 1e-9), elapsed="", status="starting")

    def on_sample(self, sample: Sample) -> None:
        self._status = (
            f"RSS {format_bytes(sample.get('rss_bytes', 0))}  "
            f"CPU {sample.get('cpu_percent', 0):.0f}%  procs {sample.get('num_procs', 0)}  "
            f"restarts {sample.get('restarts', 0)}"
        )
        if self._leak:
            self._status += f"  {self._leak}"
        self._update(sample.get("elapsed_s", 0.0))

    def on_leak_estimate(self, estimate: dict[str, Any]) -> None:
        colour = {"leak": "red", "no_leak": "green"}.get(str(estimate.get("status")), "yellow")
        self._leak = f"[{colour}]{leak_text(estimate)}[/]"
        self._update()

    def _update(self, elapsed: float | None = None) -> None:
        if self._task is None:
            return
        fields: dict[str, Any] = {"status": f"{self._status}  {self._last_event}".strip()}
        if elapsed is not None:
            fields["completed"] = elapsed
            fields["elapsed"] = format_duration(elapsed)
        self.progress.update(self._task, **fields)

    def on_event(self, event: dict[str, Any]) -> None:
        if event["event"] in NOTABLE:
            self._last_event = f"[dim]last: {_describe(event)}[/]"
            self._update()

    def on_finish(self, summary: dict[str, Any]) -> None:
        self.progress.stop()
        self.console.print(
            f"finished: [bold]{summary['exit_reason']}[/], {summary['samples']} samples, "
            f"{summary['restarts']} restarts, {summary['zombies_reaped']} zombies reaped",
            highlight=False,
        )
