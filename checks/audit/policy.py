"""The audit policy: which known vulnerabilities block a run, and the ignore list that excuses one.

Policy, per vulnerability not excused by a live ignore rule:

* a fix is available (``fix_versions``) → **block** (``fail``): upgrading is the way out;
* severity HIGH or CRITICAL (when the service gives one) → **block**, fix or not;
* otherwise (no fix, unknown or lower severity) → **warn**.

Packages that could not be audited make the result at least ``warn`` and are named.

The ignore list is a YAML file (``audit-ignore.yaml`` in the working directory, or
``--ignore-file``); every entry needs a reason and an expiry date, after which it stops
applying and the result says so::

    ignore:
      - id: GHSA-h5c8-rqwp-cp95     # or a CVE / PYSEC alias
        package: jinja2             # optional: only for this package
        reason: templates are never rendered from user input
        expires: 2026-12-31
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from checks.audit.pip_audit import AuditReport, Vulnerability
from checks.base import Status
from soakctl.errors import UsageError
from soakctl.profile import Profile
from soakkit.config_errors import format_validation_error

DEFAULT_IGNORE_FILE = Path("audit-ignore.yaml")
BLOCKING_SEVERITIES = frozenset({"HIGH", "CRITICAL"})


class IgnoreRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, description="advisory id or alias (GHSA-, CVE-, PYSEC-)")
    package: str | None = Field(None, description="only excuse it for this package")
    reason: str = Field(min_length=3, description="why this is acceptable, for the reviewer")
    expires: dt.date = Field(description="last day the rule applies (YYYY-MM-DD)")

    def matches(self, vuln: Vulnerability) -> bool:
        same_package = self.package is None or self.package.lower() == vuln.package.lower()
        return same_package and self.id.upper() in {i.upper() for i in vuln.ids}


class IgnoreFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ignore: list[IgnoreRule] = Field(default_factory=list)


def rules_from_profile(profile: Profile | None) -> list[IgnoreRule]:
    """The profile's ``audit.ignore`` entries as rules (same fields as the ignore file)."""
    if profile is None:
        return []
    return [IgnoreRule.model_validate(entry.model_dump()) for entry in profile.audit.ignore]


def load_ignore_rules(path: Path | None) -> list[IgnoreRule]:
    """Rules from ``path`` (default ``./audit-ignore.yaml`` if present); bad ones: UsageError."""
    if path is None:
        if not DEFAULT_IGNORE_FILE.is_file():
            return []
        path = DEFAULT_IGNORE_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{path}{where}: invalid YAML") from None
    try:
        return list(IgnoreFile.model_validate(data or {}).ignore)
    except ValidationError as exc:
        raise UsageError(format_validation_error(str(path), exc)) from None


class Decision(StrEnum):
    BLOCK = "block"
    WARN = "warn"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Judged:
    vulnerability: Vulnerability
    decision: Decision
    why: str


@dataclass(slots=True)
class AuditVerdict:
    status: Status
    message: str
    judged: list[Judged] = field(default_factory=list)
    not_audited: list[tuple[str, str]] = field(default_factory=list)
    expired_rules: list[IgnoreRule] = field(default_factory=list)
    service_error: str | None = None


def judge(vuln: Vulnerability, rules: list[IgnoreRule], today: dt.date) -> Judged:
    for rule in rules:
        if rule.matches(vuln) and rule.expires >= today:
            return Judged(vuln, Decision.IGNORED, f"ignored until {rule.expires}: {rule.reason}")
    if vuln.severity in BLOCKING_SEVERITIES:
        return Judged(vuln, Decision.BLOCK, f"severity {vuln.severity}")
    if vuln.fix_versions:
        return Judged(vuln, Decision.BLOCK, f"fixed in {', '.join(vuln.fix_versions)}")
    return Judged(vuln, Decision.WARN, "no fix available yet")


def evaluate(report: AuditReport, rules: list[IgnoreRule], today: dt.date) -> AuditVerdict:
    """Apply the policy (module docstring) to a report."""
    judged = [judge(v, rules, today) for v in report.vulnerabilities]
    expired = [
        r for r in rules if r.expires < today and any(r.matches(v) for v in report.vulnerabilities)
    ]
    blocking = [j for j in judged if j.decision is Decision.BLOCK]
    warned = [j for j in judged if j.decision is Decision.WARN]
    parts: list[str] = []
    if blocking:
        parts.append(
            f"{len(blocking)} blocking: "
            + ", ".join(
                f"{j.vulnerability.package} {j.vulnerability.id} ({j.why})" for j in blocking[:5]
            )
        )
    if warned:
        parts.append(
            f"{len(warned)} without fix: "
            + ", ".join(f"{j.vulnerability.package} {j.vulnerability.id}" for j in warned[:5])
        )
    if expired:
        parts.append(
            "expired ignore rule(s): " + ", ".join(f"{r.id} ({r.expires})" for r in expired)
        )
    if report.not_audited:
        names = ", ".join(name for name, _ in report.not_audited[:8])
        more = len(report.not_audited) - 8
        parts.append(
            (f"{report.service_error}; " if report.service_error else "")
            + f"{len(report.not_audited)} package(s) not audited: {names}"
            + (f" and {more} more" if more > 0 else "")
        )
    ignored = sum(1 for j in judged if j.decision is Decision.IGNORED)
    if blocking:
        status = Status.FAIL
    elif warned or expired or report.not_audited:
        status = Status.WARN
    else:
        status = Status.PASS
        parts.append(
            f"{len(report.audited)} packages audited, no known vulnerability"
            + (f" ({ignored} ignored)" if ignored else "")
        )
    return AuditVerdict(
        status=status,
        message="; ".join(parts),
        judged=judged,
        not_audited=report.not_audited,
        expired_rules=expired,
        service_error=report.service_error,
    )
