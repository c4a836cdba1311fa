"""``soakctl audit``: placeholder until the dependency audit lands (issue 5)."""

from __future__ import annotations

from soakctl.errors import UsageError


def audit() -> None:
    """Audit installed dependencies for known vulnerabilities."""
    raise UsageError("audit is not implemented yet")
