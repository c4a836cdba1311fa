"""``soakctl verify``: placeholder until the readiness checks land (issue 5)."""

from __future__ import annotations

from soakctl.errors import UsageError


def verify() -> None:
    """Run every readiness check."""
    raise UsageError("verify is not implemented yet")
