"""``dependency-audit``: no installed dependency has a known, fixable vulnerability.

The same core and policy as ``soakctl audit`` (:mod:`checks.audit`). Before a run the check
must be quick: one probe request decides whether the vulnerability service is reachable at
all, and when it is not the check warns at once, naming the packages it could not audit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from checks.audit import (
    AuditReport,
    evaluate,
    load_ignore_rules,
    rules_from_profile,
    run_pip_audit,
)
from checks.base import Check, Outcome
from checks.context import CheckContext


class DependencyAuditCheck(Check):
    name = "dependency-audit"
    description = "pip-audit of the installed environment under the audit policy"
    timeout_s = 90.0

    def __init__(self, audit: Callable[[CheckContext], AuditReport] | None = None) -> None:
        # ``audit`` stands in for pip-audit + the service in tests (no service reachable here).
        self._audit = audit or self._pip_audit

    def _pip_audit(self, ctx: CheckContext) -> AuditReport:
        return run_pip_audit(timeout_s=self.timeout_s - 5, env=dict(ctx.env))

    def run(self, ctx: CheckContext) -> Outcome:
        rules = rules_from_profile(ctx.profile) + load_ignore_rules(ctx.audit_ignore_file)
        report = self._audit(ctx)
        verdict = evaluate(report, rules, dt.datetime.now(dt.UTC).date())
        fix = None
        if verdict.judged or verdict.expired_rules:
            fix = (
                "upgrade to the fixed versions (soakctl audit lists them), or add a dated, "
                "reasoned entry to the profile's audit.ignore or audit-ignore.yaml"
            )
        elif verdict.not_audited:
            fix = "run soakctl audit where pypi.org is reachable (CI), or audit the lock file there"
        return Outcome(
            status=verdict.status,
            message=verdict.message,
            fix=fix,
            details={"not_audited": [name for name, _ in verdict.not_audited]},
        )
