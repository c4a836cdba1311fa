"""An example plugin check: passes unless ``SOAKCTL_DEMO_FAIL`` is set, saying so either way."""

from __future__ import annotations

import os

from checks.base import Check, Outcome
from checks.context import CheckContext


class DemoCheck(Check):
    name = "demo-plugin"
    description = "example third-party check loaded through the soakctl.checks entry point"
    timeout_s = 2.0

    def run(self, ctx: CheckContext) -> Outcome:
        if os.environ.get("SOAKCTL_DEMO_FAIL"):
            return Outcome.fail("SOAKCTL_DEMO_FAIL is set", fix="unset SOAKCTL_DEMO_FAIL")
        return Outcome.ok(f"hello from a plugin (profile {ctx.profile_name})")
