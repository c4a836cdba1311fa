"""``soakctl audit``: pip-audit of the installed environment under the audit policy.

Parse, call :mod:`checks.audit`, render. Exit 0 when nothing blocks (warnings included: an
unreachable service or an unfixable advisory is reported, not fatal), 1 when a known
vulnerability blocks (fix available, or HIGH/CRITICAL), 2 for a bad ignore file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from checks.base import Status
from soakctl.cli.ui import emit_json

if TYPE_CHECKING:
    from checks.audit import AuditVerdict


def _as_json(verdict: AuditVerdict) -> dict[str, object]:
    return {
        "ok": verdict.status is not Status.FAIL,
        "status": str(verdict.status),
        "message": verdict.message,
        "service_error": verdict.service_error,
        "vulnerabilities": [
            {
                "package": j.vulnerability.package,
                "version": j.vulnerability.version,
                "id": j.vulnerability.id,
                "aliases": list(j.vulnerability.aliases),
                "fix_versions": list(j.vulnerability.fix_versions),
                "severity": j.vulnerability.severity,
                "decision": str(j.decision),
                "why": j.why,
            }
            for j in verdict.judged
        ],
        "not_audited": [{"package": name, "reason": why} for name, why in verdict.not_audited],
        "expired_ignores": [
            {"id": r.id, "package": r.package, "expires": r.expires.isoformat(), "reason": r.reason}
            for r in verdict.expired_rules
        ],
    }


def audit(
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout, nothing else.")] = False,
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", help="Also honour this profile's audit.ignore entries."),
    ] = None,
    ignore_file: Annotated[
        Path | None,
        typer.Option("--ignore-file", help="Ignore list YAML (default ./audit-ignore.yaml)."),
    ] = None,
    timeout_s: Annotated[
        float, typer.Option("--timeout", help="Give up on the service after this many seconds.")
    ] = 120.0,
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input", help="Judge a saved `pip-audit -f json` output instead of running pip-audit."
        ),
    ] = None,
) -> None:
    """Audit installed dependencies for known vulnerabilities (exit 1 if one blocks)."""
    from checks.audit import (
        evaluate,
        load_ignore_rules,
        load_pip_audit_json,
        rules_from_profile,
        run_pip_audit,
    )
    from soakctl.profile import load_profile

    rules = load_ignore_rules(ignore_file)
    if profile is not None:
        rules = rules_from_profile(load_profile(profile)) + rules
    report = load_pip_audit_json(input_file) if input_file else run_pip_audit(timeout_s=timeout_s)
    verdict = evaluate(report, rules, dt.datetime.now(dt.UTC).date())
    if json_out:
        emit_json(_as_json(verdict))
    else:
        for judged in verdict.judged:
            vuln = judged.vulnerability
            typer.echo(
                f"{judged.decision.upper():7}  {vuln.package} {vuln.version}  {vuln.id}"
                f"{' (' + ', '.join(vuln.aliases) + ')' if vuln.aliases else ''}: {judged.why}"
            )
        for rule in verdict.expired_rules:
            typer.echo(f"EXPIRED  ignore {rule.id} expired on {rule.expires}: {rule.reason}")
        typer.echo(f"audit: {verdict.status.upper()}: {verdict.message}")
    if verdict.status is Status.FAIL:
        raise typer.Exit(1)
