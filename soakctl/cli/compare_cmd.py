"""``soakctl compare BASE RUN...``: runs against a baseline as one table (SPEC §9).

Thin: parse flags, call :func:`soakctl.compare.compare_runs`, print the table in the asked
format, exit 0 (no regression) / 1 (a run regressed, named) / 2 (bad input).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from soakctl.errors import UsageError


def compare(
    base: Annotated[Path, typer.Argument(
        metavar="BASE", help="The baseline: a run directory or analysis.json.")],
    runs: Annotated[list[Path], typer.Argument(
        metavar="RUN", help="Runs to compare with BASE (run directories or analysis.json).")],
    fmt: Annotated[
        str, typer.Option("--format", metavar="text|md|csv|json",
                          help="text (default), md (a markdown table, e.g. for a CI step "
                               "summary), csv, or json.")
    ] = "text",
    leak_threshold: Annotated[
        float, typer.Option("--leak-threshold", metavar="MIB_PER_H",
                            help="Leak threshold used for runs without an analysis.json and "
                                 "for the slope tolerance when BASE does not record one.")
    ] = 10.0,
) -> None:
    """Compare runs with a baseline: verdict, leak slope, peaks, CPU, restarts, duration.

    Each run is judged with the tolerances of `soakctl analyze --baseline`.

    Slope: + max(threshold/2, 25 %). RSS, fds, threads max: + 10 % and an allowance.

    CPU avg: + 20 % + 5 points. Exit 0 no regression, 1 a run regressed (named), 2 bad input.
    """
    from soakctl.compare import FORMATS, compare_runs, render

    if fmt not in FORMATS:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if not leak_threshold > 0:
        raise UsageError(f"--leak-threshold must be positive, got {leak_threshold}")
    result = compare_runs(base, runs, threshold_mib_per_h=leak_threshold)
    sys.stdout.buffer.write(render(result, fmt))
    sys.stdout.flush()
    if result.regressed:
        sys.stderr.write(f"soakctl: regressed against the base: {', '.join(result.regressed)}\n")
    raise typer.Exit(result.exit_code)
