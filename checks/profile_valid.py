"""``profile``: the soak profile loads and validates (docs/cli.md §7), before hours are spent on it.

The context has already tried to load it (:func:`checks.context.build_context`); this check
reports the outcome, naming the file and key path of the first problem.
"""

from __future__ import annotations

from checks.base import Check, Outcome
from checks.context import CheckContext


class ProfileCheck(Check):
    name = "profile"
    description = "the soak profile loads and every key is valid"
    timeout_s = 5.0

    def run(self, ctx: CheckContext) -> Outcome:
        if ctx.profile is None:
            return Outcome.fail(
                ctx.profile_error or f"profile {ctx.profile_name!r} did not load",
                fix="fix the key named above (see docs/cli.md §7), or pick another --profile",
            )
        profile = ctx.profile
        target = " ".join(profile.target.command) if profile.target else "none (give -- CMD)"
        return Outcome.ok(
            f"{profile.name}: target {target}, {len(profile.services)} service(s), "
            f"{len(profile.criteria)} criteria",
            profile=ctx.profile_name,
        )
