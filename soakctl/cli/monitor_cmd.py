"""``soakctl monitor``: placeholder (issue 2 in progress)."""

from __future__ import annotations

from soakctl.errors import UsageError


def monitor() -> None:
    """Attach to a running process and sample its tree."""
    raise UsageError("monitor is not implemented yet")
