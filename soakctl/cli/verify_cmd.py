"""``soakctl verify``: run every readiness check (built-ins and plugins) and render the results.

Thin by design: build the :class:`~checks.context.CheckContext`, pick the checks, hand them to
:func:`checks.runner.run_checks`, render. A rich table on a terminal, one plain line per check
in CI or a pipe, ``{"ok", "checks"}`` JSON with ``--json``. Exit 1 when any check fails.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from checks.base import CheckResult, Status
from soakctl.cli.ui import emit_json, interactive

_STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


def _summary(results: list[CheckResult], wall_s: float) -> str:
    counts = {status: sum(r.status is status for r in results) for status in Status}
    verdict = "FAILED" if counts[Status.FAIL] else "OK"
    listed = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    return f"verify: {listed} in {wall_s:.2f}s: {verdict}"


def _render_plain(results: list[CheckResult], wall_s: float) -> None:
    width = max((len(r.name) for r in results), default=0)
    for result in results:
        typer.echo(
            f"{result.status.upper():4}  {result.name:{width}}  {result.message} "
            f"({result.duration_s:.2f}s)"
        )
        if result.fix and result.status in (Status.FAIL, Status.WARN):
            typer.echo(f"{'':4}  {'':{width}}  fix: {result.fix}")
    typer.echo(_summary(results, wall_s))


def _render_rich(results: list[CheckResult], wall_s: float) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for column in ("status", "check", "message", "fix"):
        table.add_column(column, overflow="fold")
    for result in results:
        style = _STYLE[result.status]
        fix = result.fix if result.status in (Status.FAIL, Status.WARN) else None
        table.add_row(
            f"[{style}]{result.status.upper()}[/]",
            escape(result.name),
            escape(result.message),
            escape(fix or ""),
        )
    console = Console()
    console.print(table)
    console.print(escape(_summary(results, wall_s)), highlight=False)


def verify(
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", help="Profile name or YAML path (default: bot-sim)."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout, nothing else.")] = False,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only this check (repeatable).")
    ] = None,
    skip: Annotated[
        list[str] | None, typer.Option("--skip", help="Do not run this check (repeatable).")
    ] = None,
    exchange_url: Annotated[
        str | None,
        typer.Option(
            "--exchange-url",
            help="Exchange REST base URL to check (default: MMBOT_REST_URL, the profile, "
            "http://127.0.0.1:8900 for mmbot).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Artifacts directory the run will use.")
    ] = None,
    audit_ignore_file: Annotated[
        Path | None,
        typer.Option(
            "--audit-ignore-file", help="Audit ignore list (default ./audit-ignore.yaml)."
        ),
    ] = None,
) -> None:
    """Check readiness for a long run: exit 0 when nothing fails, 1 when a check fails."""
    # The checks (websockets, pydantic, numpy...) load only when verify runs: start-up stays
    # light for every other command.
    from checks.context import build_context
    from checks.plugins import load_plugins
    from checks.registry import builtin_checks, select
    from checks.runner import run_checks

    started = time.perf_counter()
    ctx = build_context(
        profile, exchange_url=exchange_url, artifacts_dir=out, audit_ignore_file=audit_ignore_file
    )
    builtins = builtin_checks()
    plugins, broken = load_plugins(taken=[c.name for c in builtins])
    checks = select([*builtins, *plugins], only or [], skip or [])
    broken = [b for b in broken if not only or b.name in only]
    if interactive() and not json_out:
        from rich.console import Console

        with Console(stderr=True).status(f"running {len(checks)} checks..."):
            results = run_checks(checks, ctx)
    else:
        results = run_checks(checks, ctx)
    results += broken
    wall_s = time.perf_counter() - started
    ok = not any(r.status is Status.FAIL for r in results)
    if json_out:
        emit_json({"ok": ok, "checks": [r.to_json() for r in results]})
    elif interactive():
        _render_rich(results, wall_s)
    else:
        _render_plain(results, wall_s)
    if not ok:
        raise typer.Exit(1)
