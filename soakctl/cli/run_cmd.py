"""``soakctl run``: placeholder (issue 2 in progress)."""

from __future__ import annotations

from soakctl.errors import UsageError


def run() -> None:
    """Soak a target under the supervisor."""
    raise UsageError("run is not implemented yet")
