"""``target-command``: every program the run will start can be found and executed.

The target, each service and each ``after`` command: ``argv[0]`` is looked up like the
supervisor will, by the one resolver ``run`` uses (``soakctl.commands.find_program``: ``PATH`` from
the environment plus the profile's ``target.env``, then the interpreter's own scripts directory;
a path with a slash relative to the process's ``cwd``). A typo here otherwise surfaces as an
immediate ``start_failed`` after the services were already started.
"""

from __future__ import annotations

from checks.base import Check, Outcome
from checks.context import CheckContext
from soakctl.commands import find_program
from soakctl.profile import Profile


def commands(profile: Profile) -> list[tuple[str, list[str], str | None]]:
    """(role, argv, cwd) of everything the run starts."""
    found: list[tuple[str, list[str], str | None]] = []
    if profile.target is not None:
        found.append(("target", profile.target.command, profile.target.cwd))
    found += [(f"service {s.name}", s.command, s.cwd) for s in profile.services]
    found += [(f"after[{i}]", argv, None) for i, argv in enumerate(profile.after)]
    return found


class TargetCommandCheck(Check):
    name = "target-command"
    description = "the target, service and after commands resolve to executables"
    timeout_s = 5.0

    def run(self, ctx: CheckContext) -> Outcome:
        if ctx.profile is None:
            return Outcome.skip("the profile did not load")
        if ctx.profile.target is None:
            return Outcome.skip("the profile has no target (soakctl run -- CMD gives one)")
        env = ctx.target_env
        missing: list[str] = []
        resolved: dict[str, str] = {}
        for role, argv, cwd in commands(ctx.profile):
            where = find_program(argv[0], env, ctx.resolve(cwd or "."))
            if where is None:
                missing.append(f"{role}: {argv[0]!r} not found")
            else:
                resolved[role] = where
        if missing:
            return Outcome.fail(
                "; ".join(missing),
                fix="install the program, fix the command in the profile, or add its "
                "directory to PATH (target.env.PATH)",
                resolved=resolved,
            )
        return Outcome.ok(
            f"{len(resolved)} command(s) found: target is {resolved['target']}", resolved=resolved
        )
