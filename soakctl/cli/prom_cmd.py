"""The ``--prometheus`` side of ``soakctl analyze`` (SPEC §9): fetch, analyse, write, render.

Kept apart from ``analyze_cmd`` so that command only dispatches. Output goes beside nothing:
``--out`` (default ``artifacts/prometheus/<UTC time>``) receives analysis.json, report.html,
summary.md and junit.xml.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import typer

from soakctl.cli import ui
from soakctl.errors import UsageError
from soakctl.units import parse_duration

DEFAULT_OUT = Path("artifacts") / "prometheus"


def parse_time(text: str, now: float) -> float:
    """``now``, seconds since the epoch, or RFC 3339 (``2026-11-24T12:00:00Z``)."""
    value = text.strip()
    if value.lower() == "now":
        return now
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--until: expected now, epoch seconds or RFC 3339, got {text!r}"
                         ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _duration(flag: str, text: str) -> float:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None
    if value <= 0:
        raise UsageError(f"{flag}: must be positive, got {text!r}")
    return value


def analyze_prometheus(*, url: str, query: str | None, since: str | None, until: str | None,
                       step: str | None, out: Path | None, json_out: bool,
                       criteria: list[str], leak_threshold: float,
                       basic_auth_file: Path | None, bearer_token_file: Path | None,
                       ca_file: Path | None) -> int:
    from soakctl.analyze.prometheus import analyze_series, write_outputs
    from soakctl.promclient import Auth, Client, default_step

    if not query:
        raise UsageError("--prometheus needs --query PROMQL")
    if not since:
        raise UsageError("--prometheus needs --since DURATION (e.g. 24h, 7d)")
    end = parse_time(until, time.time()) if until else time.time()
    start = end - _duration("--since", since)
    step_s = _duration("--step", step) if step else default_step(end - start)
    client = Client(url, auth=Auth.from_files(basic_auth_file, bearer_token_file),
                    ca_file=ca_file)
    result = client.query_range(query, start, end, step_s)
    analysis = analyze_series(url, query, result, criteria=criteria,
                              leak_threshold_mib_per_h=leak_threshold)
    target = out if out is not None else DEFAULT_OUT / time.strftime("%Y%m%dT%H%M%SZ",
                                                                     time.gmtime(end))
    write_outputs(analysis, target)
    data = analysis.to_dict()
    if json_out:
        ui.emit_json(data)
        return analysis.exit_code
    lines = [f"verdict: {data['verdict'].upper()}", *[f"  - {r}" for r in data["reasons"]],
             f"series: {len(data['series'])} (step {step_s:g} s, {result.pages} page(s))"]
    for s in data["series"]:
        leak = s["leak"]
        lines.append(f"  {s['verdict']:<4}  {s['name']}  {leak['status']} "
                     f"({leak['slope_mib_per_hour']} MiB/h, 95% CI {leak['ci_mib_per_hour']})")
    lines.append(f"report: {target / 'report.html'}")
    typer.echo("\n".join(lines))
    return analysis.exit_code
