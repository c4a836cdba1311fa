"""``target-command``: every program the run will start can be found and executed.

The target, each service and each ``after`` command: ``argv[0]`` is looked up like the
supervisor will (``PATH`` from the environment plus the profile's ``target.env``; a path with
a slash relative to the process's ``cwd``). A typo here otherwise surfaces as an immediate
``start_failed`` after the services were already started.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from checks.base import Check, Outcome
from checks.context import CheckContext
from soakctl.profile import Profile


def resolve_program(argv0: str, path_env: str | None, cwd: Path) -> str | None:
    """Full path of ``argv0`` as a process started with this PATH and cwd would see it."""
    if "{" in argv0:
        return argv0  # a placeholder the supervisor expands at start time
    if os.sep in argv0 or (os.altsep and os.altsep in argv0):
        candidate = Path(argv0) if Path(argv0).is_absolute() else cwd / argv0
        ok = candidate.is_file() and os.access(candidate, os.X_OK)
        return str(candidate) if ok else None
    return shutil.which(argv0, path=path_env)


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
        path_env = ctx.target_env.get("PATH", os.defpath)
        missing: list[str] = []
        resolved: dict[str, str] = {}
        for role, argv, cwd in commands(ctx.profile):
            where = resolve_program(argv[0], path_env, ctx.resolve(cwd or "."))
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
