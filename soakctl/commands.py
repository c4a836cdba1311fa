"""One way to find the program a profile's command runs, shared by ``run``, ``verify`` and the
after-checks, so readiness and the run can never disagree about what a name means.

Order: a placeholder (``{run_dir}/tool``) is left for the supervisor to expand at start time; a
name with a path separator is taken relative to the command's ``cwd``; a bare name is looked up
on the ``PATH`` the process will see (ours plus the profile's ``env``), then beside this
interpreter, so ``.venv/bin/soakctl run`` finds the ``mmbot`` installed next to it without an
activated venv (docs/cli.md §7).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path


def _has_separator(program: str) -> bool:
    return os.sep in program or bool(os.altsep and os.altsep in program)


def scripts_dir() -> Path:
    """Where this interpreter's console scripts live (``.venv/bin`` or ``.venv\\Scripts``)."""
    return Path(sys.executable).parent


def find_program(program: str, env: Mapping[str, str], cwd: Path | None = None) -> str | None:
    """Full path of ``program`` as a process started with ``env`` in ``cwd`` would run it;
    None if nothing executable is there. Placeholders are returned unchanged."""
    if "{" in program:
        return program
    if _has_separator(program):
        candidate = Path(program)
        if not candidate.is_absolute() and cwd is not None:
            candidate = cwd / candidate
        ok = candidate.is_file() and os.access(candidate, os.X_OK)
        return str(candidate) if ok else None
    found = shutil.which(program, path=env.get("PATH", os.defpath))
    if found is not None:
        return found
    return shutil.which(program, path=str(scripts_dir()))


def resolve_command(
    argv: list[str], env: Mapping[str, str], cwd: Path | None = None
) -> list[str]:
    """``argv`` ready to spawn: a bare name found only beside this interpreter becomes its full
    path; anything else is left as written (a missing program then fails at spawn with the OS's
    reason, which the caller reports)."""
    program = argv[0]
    if _has_separator(program) or "{" in program:
        return argv
    if shutil.which(program, path=env.get("PATH", os.defpath)) is not None:
        return argv
    found = find_program(program, env, cwd)
    return [found, *argv[1:]] if found else argv
