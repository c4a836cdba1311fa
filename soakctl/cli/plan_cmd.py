"""``soakctl plan RUN --leak RATE``: how long a soak must run to catch a leak of RATE
(docs/cli.md §9).

Thin: parse flags, load the run's RSS, call :func:`soakctl.analyze.plan.plan`, render. Exit 0
with an answer, 1 when no length up to 30 days catches RATE, 2 for bad input.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from soakctl.cli import ui
from soakctl.errors import InputError, UsageError
from soakctl.units import format_duration, parse_size

if TYPE_CHECKING:
    from soakctl.analyze.plan import PlanResult

MIB = 1 << 20
MIN_SAMPLES = 16

_RATE = re.compile(r"\s*([0-9.]+\s*[a-z]*)\s*/\s*(s|sec|min|m|h|hour|d|day)\s*", re.IGNORECASE)
_PER = {"s": 3600.0, "sec": 3600.0, "min": 60.0, "m": 60.0, "h": 1.0, "hour": 1.0,
        "d": 1 / 24, "day": 1 / 24}


def parse_rate(text: str) -> float:
    """Bytes per hour for ``20MiB/h``, ``500KiB/min``, ``1GiB/d``; ``UsageError`` if invalid."""
    match = _RATE.fullmatch(text)
    size = None
    if match is not None:
        try:
            size = parse_size(match.group(1).replace(" ", ""))
        except ValueError:
            size = None
    if match is None or size is None or size <= 0:
        raise UsageError(f"--leak: expected a rate like 20MiB/h, got {text!r}")
    return size * _PER[match.group(2).lower()]


def plan(
    run: Annotated[Path, typer.Argument(help="A run directory or resources.jsonl to learn from.")],
    leak: Annotated[str, typer.Option("--leak", metavar="RATE",
                                      help="The leak to catch, e.g. 20MiB/h, 500KiB/min.")],
    power: Annotated[float, typer.Option(
        "--power", help="Share of leaking runs that must be caught (0.5-0.999).")] = 0.95,
    leak_threshold: Annotated[float, typer.Option(
        "--leak-threshold", metavar="MIB_PER_H",
        help="The detector's threshold, as given to analyze.")] = 10.0,
    json_out: Annotated[bool, typer.Option(
        "--json", help='Print {"min_duration_s", "power", "false_alarm_rate"}.')] = False,
) -> None:
    """Plan the soak length: the shortest run that catches a leak of RATE on this process.

    Learns the run's warm-up, cycle and noise, simulates the leak detector on runs built from
    them with a leak of RATE added (and without, for false alarms), and prints the shortest
    length caught with the requested power and no false alarm. Example: soakctl plan
    runs/20261124T121500Z --leak 20MiB/h
    """
    import numpy as np

    from soakctl.analyze.loader import load_samples
    from soakctl.analyze.plan import plan as run_plan
    from soakctl.analyze.rundir import resolve_input

    rate = parse_rate(leak)
    if not 0.5 <= power < 1:
        raise UsageError(f"--power: expected a share between 0.5 and 0.999, got {power}")
    if not leak_threshold > 0:
        raise UsageError(f"--leak-threshold: expected a positive MiB/h, got {leak_threshold}")
    if rate <= leak_threshold * MIB:
        raise UsageError(f"--leak: {rate / MIB:g} MiB/h is not above the detector's threshold "
                         f"{leak_threshold:g} MiB/h, so no soak length catches it (lower "
                         f"--leak-threshold)")
    samples_path, _run_dir = resolve_input(run)
    cols = load_samples(samples_path, ui.warn).columns
    usable = int(np.isfinite(cols["rss_bytes"]).sum())
    if usable < MIN_SAMPLES:
        raise InputError(f"{samples_path}: only {usable} RSS samples; plan learns from at least "
                         f"{MIN_SAMPLES} (a run of a few minutes)")
    result = run_plan(cols["ts"], cols["rss_bytes"], rate, power=power,
                      threshold_per_h=leak_threshold * MIB)
    data = result.to_dict()
    if json_out:
        # Exactly the docs/cli.md §9 keys: the length that reaches the asked power (the simulated
        # runs at that length reached at least it) and the false alarms measured there.
        ui.emit_json({"min_duration_s": data["min_duration_s"], "power": power,
                      "false_alarm_rate": data["false_alarm_rate"]})
    else:
        for line in _lines(result, leak):
            typer.echo(line)
    raise typer.Exit(0 if result.min_duration_s is not None else 1)


def _lines(result: PlanResult, leak: str) -> list[str]:
    period = result.period_s
    learned = (f"learned from {format_duration(result.run_duration_s)} of RSS: warm-up "
               f"{format_duration(result.warmup_s)}, noise sd {result.noise_sd / MIB:.3g} MiB, "
               + (f"cycle {format_duration(period)}" if period else "no cycle"))
    if result.min_duration_s is None:
        return [f"no soak up to 30 days catches {leak} with the requested power", learned]
    d = result.min_duration_s
    return [
        f"soak at least {format_duration(d)} ({d:.0f} s) to catch {leak}",
        f"  caught in {result.achieved_power:.0%} of simulated runs of that length (asked "
        f"{result.power:.0%}); false alarms in {result.false_alarm_rate:.0%} of clean ones",
        f"  {learned}",
    ]
