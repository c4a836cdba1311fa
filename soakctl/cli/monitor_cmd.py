"""``soakctl monitor``: attach to a running process and sample its tree to JSONL."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from soakctl.errors import UsageError
from soakctl.units import parse_duration


def monitor(
    pid: Annotated[int, typer.Option("--pid", help="Process to attach to (its tree is sampled).")],
    interval: Annotated[str, typer.Option("--interval", "-i", help="Sampling interval.")] = "1s",
    duration: Annotated[
        str | None, typer.Option("--duration", "-d", help="Stop after this long (default: exit).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="JSONL file (default monitor-PID.jsonl).")
    ] = None,
) -> None:
    """Attach to a running process and sample its whole tree to JSONL (docs/run-files.md §4 schema).

    Sampling stops when the process exits, the duration ends, or on Ctrl-C. The file can be
    judged with `soakctl analyze FILE`. Example: soakctl monitor --pid 4242 --duration 1h
    """
    from soakctl.monitor import monitor_pid

    try:
        interval_s = parse_duration(interval)
        duration_s = parse_duration(duration) if duration is not None else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if interval_s < 0.01:
        raise UsageError("--interval: expected at least 10ms")
    path = out or Path(f"monitor-{pid}.jsonl")
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    typer.echo(str(path))
    try:
        result = monitor_pid(pid, path, interval_s=interval_s, duration_s=duration_s, stop=stop)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    typer.echo(f"{result.samples} samples, stopped: {result.reason}")
