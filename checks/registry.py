"""The built-in checks, in display order, and the one place that knows them all.

Adding a check: write ``checks/<name>.py`` with one :class:`~checks.base.Check` subclass and
list it here; ``tests/unit/checks/test_registry.py`` fails if a module is forgotten. Outside
packages add checks through the ``soakctl.checks`` entry-point group instead
(:mod:`checks.plugins`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from checks.account_clean import AccountCleanCheck
from checks.artifacts_writable import ArtifactsWritableCheck
from checks.base import Check
from checks.clock_skew import ClockSkewCheck
from checks.dependency_audit import DependencyAuditCheck
from checks.disk_space import DiskCheck
from checks.exchange_rest import ExchangeRestCheck
from checks.exchange_ws import ExchangeWsCheck
from checks.log_lint import LogLintCheck
from checks.ports_free import PortsCheck
from checks.profile_valid import ProfileCheck
from checks.python_env import PythonCheck
from checks.redaction import RedactionCheck
from checks.secrets_files import SecretsCheck
from checks.target_command import TargetCommandCheck
from soakctl.errors import UsageError

BUILTIN_CHECKS: tuple[type[Check], ...] = (
    PythonCheck,
    ProfileCheck,
    SecretsCheck,
    DiskCheck,
    ArtifactsWritableCheck,
    TargetCommandCheck,
    PortsCheck,
    ExchangeRestCheck,
    ClockSkewCheck,
    ExchangeWsCheck,
    AccountCleanCheck,
    DependencyAuditCheck,
    LogLintCheck,
    RedactionCheck,
)


def builtin_checks() -> list[Check]:
    """One fresh instance of every built-in check."""
    return [cls() for cls in BUILTIN_CHECKS]


def select(checks: Sequence[Check], only: Iterable[str], skip: Iterable[str]) -> list[Check]:
    """``checks`` filtered by ``--only`` / ``--skip`` names; an unknown name is a UsageError."""
    only, skip = list(only), list(skip)
    known = [c.name for c in checks]
    unknown = [name for name in (*only, *skip) if name not in known]
    if unknown:
        raise UsageError(f"unknown check {unknown[0]!r} (known: {', '.join(known)})")
    return [c for c in checks if (not only or c.name in only) and c.name not in skip]
