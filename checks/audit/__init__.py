"""The dependency audit core shared by ``soakctl audit`` and the ``dependency-audit`` check.

:mod:`checks.audit.pip_audit` runs pip-audit and reads its JSON; :mod:`checks.audit.policy`
decides what blocks, with an ignore list that expires.
"""

from __future__ import annotations

from checks.audit.pip_audit import (
    AuditError,
    AuditReport,
    Vulnerability,
    load_pip_audit_json,
    parse_pip_audit_json,
    run_pip_audit,
)
from checks.audit.policy import (
    AuditVerdict,
    Decision,
    IgnoreRule,
    evaluate,
    load_ignore_rules,
    rules_from_profile,
)

__all__ = [
    "AuditError",
    "AuditReport",
    "AuditVerdict",
    "Decision",
    "IgnoreRule",
    "Vulnerability",
    "evaluate",
    "load_ignore_rules",
    "load_pip_audit_json",
    "parse_pip_audit_json",
    "rules_from_profile",
    "run_pip_audit",
]
