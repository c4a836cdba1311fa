"""Running pip-audit on the installed environment and reading its JSON into typed values.

``python -m pip_audit -f json -l --skip-editable`` audits the environment of the interpreter
that runs it (``sys.executable`` by default: soakctl's own). Its JSON (pip-audit 2.x,
``pip_audit/_format/json.py``)::

    {"dependencies": [{"name": "jinja2", "version": "3.1.2",
                       "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"],
                                  "aliases": ["CVE-2024-22195"], "description": "..."}]},
                      {"name": "private-pkg", "skip_reason": "Dependency not found on PyPI ..."}],
     "fixes": []}

pip-audit gives no severity; a ``severity`` key on a vulnerability, if a future version or
another tool adds one, is read. When the service cannot be reached pip-audit exits with a
traceback and no JSON: that becomes ``AuditReport.service_error`` with every installed package
listed as not audited. A cheap probe of the service (one request) lets callers in a hurry
skip the full run when the service is plainly down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from checks.base import CheckError
from soakctl.errors import InputError

PYPI_JSON = "https://pypi.org/pypi/{name}/{version}/json"


class AuditError(CheckError):
    """pip-audit produced something we cannot read (not an unreachable service: that is data)."""


@dataclass(frozen=True, slots=True)
class Vulnerability:
    id: str
    package: str
    version: str
    fix_versions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    description: str = ""
    severity: str | None = None  # "LOW" .. "CRITICAL" when the source gives one

    @property
    def ids(self) -> frozenset[str]:
        return frozenset((self.id, *self.aliases))


@dataclass(slots=True)
class AuditReport:
    vulnerabilities: list[Vulnerability] = field(default_factory=list)
    audited: list[tuple[str, str]] = field(default_factory=list)  # (name, version)
    not_audited: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    service_error: str | None = None


def parse_pip_audit_json(data: Any) -> AuditReport:
    """An :class:`AuditReport` from pip-audit's ``-f json`` document."""
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise AuditError("pip-audit JSON has no 'dependencies' list")
    report = AuditReport()
    for dep in data["dependencies"]:
        name = str(dep.get("name", "?"))
        if "skip_reason" in dep:
            report.not_audited.append((name, str(dep["skip_reason"])))
            continue
        version = str(dep.get("version", "?"))
        report.audited.append((name, version))
        for vuln in dep.get("vulns") or []:
            severity = vuln.get("severity")
            report.vulnerabilities.append(
                Vulnerability(
                    id=str(vuln["id"]),
                    package=name,
                    version=version,
                    fix_versions=tuple(str(v) for v in vuln.get("fix_versions") or ()),
                    aliases=tuple(str(a) for a in vuln.get("aliases") or ()),
                    description=str(vuln.get("description") or ""),
                    severity=str(severity).upper() if severity else None,
                )
            )
    return report


def installed_packages() -> list[tuple[str, str]]:
    """(name, version) of every distribution in this environment, sorted by name."""
    found = {
        canonicalize_name(dist.metadata["Name"] or "?"): dist.version
        for dist in metadata.distributions()
    }
    return sorted(found.items())


def _unreachable(reason: str) -> AuditReport:
    return AuditReport(
        not_audited=[(name, f"not audited: {reason}") for name, _ in installed_packages()],
        service_error=reason,
    )


def probe_service(timeout_s: float = 2.0) -> str | None:
    """None if PyPI's vulnerability data answers for a package we have, else the reason."""
    # pip-audit itself is always installed beside us: a package PyPI must know.
    url = PYPI_JSON.format(name="pip-audit", version=metadata.version("pip-audit"))
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return f"{url} answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"cannot reach pypi.org: {reason}"
    if not isinstance(body, dict) or "vulnerabilities" not in body:
        return f"{url} gave no vulnerability data"
    return None


def run_pip_audit(
    *, timeout_s: float = 120.0, env: dict[str, str] | None = None, probe: bool = True
) -> AuditReport:
    """Audit this environment with pip-audit; an unreachable service is a report, not an error."""
    if probe and (reason := probe_service(min(timeout_s, 3.0))) is not None:
        return _unreachable(f"vulnerability service unreachable ({reason})")
    socket_timeout_s = max(1, int(min(timeout_s / 4, 15)))
    argv = [
        sys.executable,
        "-m",
        "pip_audit",
        "-f",
        "json",
        "-l",
        "--skip-editable",
        "--progress-spinner",
        "off",
        "--desc",
        "on",
        "--aliases",
        "on",
        "--timeout",
        str(socket_timeout_s),
    ]
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=dict(os.environ if env is None else env),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _unreachable(f"pip-audit did not finish within {timeout_s:g}s")
    except OSError as exc:
        raise AuditError(f"cannot run pip-audit: {exc}") from exc
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        last = lines[-1] if lines else f"exit code {proc.returncode}"
        return _unreachable(f"vulnerability service unreachable ({last[:200]})")
    report = parse_pip_audit_json(data)
    if report.not_audited and not report.audited:
        report.service_error = "the vulnerability service knew none of the installed packages"
    return report


def load_pip_audit_json(path: Path) -> AuditReport:
    """A report from a saved ``pip-audit -f json`` file; unreadable or malformed: InputError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError(f"{path}: not JSON: {exc}") from None
    try:
        report = parse_pip_audit_json(data)
    except (AuditError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: not pip-audit JSON output: {exc}") from None
    if report.not_audited and not report.audited:
        report.service_error = "the vulnerability service knew none of the packages"
    return report
