"""``soakctl analyze``: samples -> verdict, leak analysis and report.

Contract: docs/cli.md §3 (command), docs/run-files.md §5 (analysis.json), docs/cli.md §6
(criteria).

Thin: parse flags, call :func:`soakctl.analyze.analyze_path`, render, exit 0 pass / 1 fail.
Bad input raises ``InputError`` and the CLI edge prints one line and exits 2. The analysis
package (numpy) is imported only when the command runs, so ``soakctl --help`` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from soakctl.cli import ui

if TYPE_CHECKING:
    from soakctl.analyze import Analysis


def analyze(
    path: Annotated[Path | None, typer.Argument(
        help="A run directory or a resources.jsonl file (not with --prometheus).")] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="A previous run (directory, resources.jsonl or "
                     "analysis.json) to compare slopes, peaks and CPU with."),
    ] = None,
    criteria: Annotated[
        list[str] | None,
        typer.Option("--criteria", help="Extra criterion SERIES[.AGG] OP NUMBER "
                     "(repeatable), e.g. 'cpu_percent.avg < 80'."),
    ] = None,
    leak_threshold: Annotated[
        float, typer.Option("--leak-threshold", "--threshold", metavar="MIB_PER_H",
                            help="RSS growth above this rate is a leak.")
    ] = 10.0,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print analysis.json on stdout and nothing else.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the outputs here instead of beside the input."),
    ] = None,
    prometheus: Annotated[
        str | None, typer.Option("--prometheus", metavar="URL", rich_help_panel="Prometheus",
                                 help="Analyse a Prometheus range query instead of a run: "
                                      "each series as a memory series in bytes.")
    ] = None,
    query: Annotated[str | None, typer.Option("--query", metavar="PROMQL",
                                              rich_help_panel="Prometheus")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", metavar="DURATION", rich_help_panel="Prometheus",
        help="How far back from --until, e.g. 24h or 7d.")] = None,
    until: Annotated[str | None, typer.Option(
        "--until", metavar="TIME", rich_help_panel="Prometheus",
        help="End of the range: now (default), epoch seconds or RFC 3339.")] = None,
    step: Annotated[str | None, typer.Option(
        "--step", metavar="DURATION", rich_help_panel="Prometheus",
        help="Resolution; default: the range / 10,000, at least 1s. Long ranges are paged "
             "under Prometheus' 11,000 points per series.")] = None,
    basic_auth_file: Annotated[Path | None, typer.Option(
        "--basic-auth-file", rich_help_panel="Prometheus",
        help="A file holding USER:PASSWORD (never give credentials as flags).")] = None,
    bearer_token_file: Annotated[Path | None, typer.Option(
        "--bearer-token-file", rich_help_panel="Prometheus",
        help="A file holding a bearer token.")] = None,
    ca_file: Annotated[Path | None, typer.Option(
        "--ca-file", rich_help_panel="Prometheus",
        help="CA bundle for an https:// server (TLS is always verified).")] = None,
) -> None:
    """Turn samples into a verdict, a leak analysis and a report.

    Writes analysis.json, report.html, summary.md and junit.xml. Exit 0 pass, 1 fail, 2 bad
    input. With --prometheus URL --query PROMQL --since D, the series come from Prometheus
    instead (exit 2 when the server is unreachable or refuses the query).
    """
    from soakctl.analyze import analyze_path
    from soakctl.errors import UsageError

    if prometheus is not None:
        if path is not None or baseline is not None:
            raise UsageError("--prometheus takes no PATH and no --baseline")
        from soakctl.cli.prom_cmd import analyze_prometheus

        raise typer.Exit(analyze_prometheus(
            url=prometheus, query=query, since=since, until=until, step=step, out=out,
            json_out=json_out, criteria=criteria or [], leak_threshold=leak_threshold,
            basic_auth_file=basic_auth_file, bearer_token_file=bearer_token_file,
            ca_file=ca_file))
    if path is None:
        raise UsageError("give a run directory or resources.jsonl (or --prometheus URL)")

    result = analyze_path(path, criteria=criteria or (), leak_threshold_mib_per_h=leak_threshold,
                          baseline=baseline, out_dir=out, warn=ui.warn)
    if json_out:
        ui.emit_json(result.to_dict())
    else:
        _render(result, out if out is not None else (path if path.is_dir() else path.parent))
    raise typer.Exit(result.exit_code)


def _render(result: Analysis, out_dir: Path) -> None:
    data = result.to_dict()
    leak = data["leak"]
    lines = [
        f"verdict: {data['verdict'].upper()}",
        *[f"  - {r}" for r in data["reasons"]],
        f"leak: {leak['status']} ({leak['slope_mib_per_hour']} MiB/h, "
        f"95% CI {leak['ci_mib_per_hour']}, threshold {leak['threshold_mib_per_hour']} MiB/h)",
        "criteria:",
        *[f"  {c['status']:<4}  {c['expr']}  ({c['message']})" for c in data["criteria"]],
        f"report: {os.path.join(out_dir, 'report.html')}",
    ]
    if ui.interactive():
        from rich.console import Console

        console = Console()
        style = "bold green" if data["verdict"] == "pass" else "bold red"
        console.print(lines[0], style=style, highlight=False)
        for line in lines[1:]:
            console.print(line, highlight=False, markup=False)
    else:
        typer.echo("\n".join(lines))
