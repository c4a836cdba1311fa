"""``secrets``: the Bybit API key and secret are where the bot looks, readable, and not exposed.

Sources, in the bot's order (bot/secrets.py, bot/config.py): the run's credentials directory
(``MMBOT_CREDENTIALS_DIR``), ``/run/secrets/bybit_api_{key,secret}``, the files named by
``BYBIT_API_KEY_FILE`` / ``BYBIT_API_SECRET_FILE``. Each file must exist, be readable and
non-empty, be neither world-readable nor world-writable (POSIX), and not be tracked by git.
Plain ``BYBIT_API_KEY`` / ``BYBIT_API_SECRET`` env vars are a failure: every child process and
``/proc/PID/environ`` can read them. Values are never read into a message.
"""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from checks.base import Check, Outcome
from checks.context import CheckContext, ExchangeMode

NAMES = ("key", "secret")
PLAIN_VARS = ("BYBIT_API_KEY", "BYBIT_API_SECRET")


def secret_files(ctx: CheckContext) -> dict[str, Path]:
    """The file each secret will be read from, in the bot's order; unconfigured ones left out.

    A file named explicitly (credentials dir, ``*_FILE``) is returned even when missing, so the
    check can say so; ``/run/secrets`` only counts when the file is there.
    """
    env = ctx.target_env
    run_dir = env.get("MMBOT_CREDENTIALS_DIR", "")
    found: dict[str, Path] = {}
    for name in NAMES:
        docker = ctx.secrets_dir / f"bybit_api_{name}"
        named = env.get(f"BYBIT_API_{name.upper()}_FILE")
        if run_dir and "{" not in run_dir:  # a placeholder: the run creates it
            found[name] = ctx.resolve(Path(run_dir) / f"bybit_api_{name}")
        elif docker.exists():
            found[name] = docker
        elif named:
            found[name] = ctx.resolve(named)
    return found


def tracked_by_git(path: Path) -> bool:
    """True if ``path`` is in the index of the git repository containing it."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(path.parent), "ls-files", "--error-unmatch", "--", path.name],
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False  # no git, or git hung: nothing we can tell
    return proc.returncode == 0


def file_problems(name: str, path: Path) -> list[tuple[str, str]]:
    """(problem, fix) pairs for one secret file."""
    if not path.exists():
        return [(f"API {name} file {path} does not exist", f"create {path} (mode 600)")]
    if not path.is_file():
        return [(f"API {name} file {path} is not a regular file", f"put the {name} in a file")]
    problems: list[tuple[str, str]] = []
    try:
        with path.open("rb") as handle:
            empty = not handle.read(4096).strip()
    except OSError as exc:
        return [(f"API {name} file {path} is not readable: {exc.strerror}", f"chmod 600 {path}")]
    if empty:
        problems.append((f"API {name} file {path} is empty", f"write the API {name} into {path}"))
    mode = path.stat().st_mode
    if sys.platform != "win32" and mode & (stat.S_IROTH | stat.S_IWOTH):
        problems.append(
            (
                f"API {name} file {path} is world-accessible (mode {stat.filemode(mode)})",
                f"chmod 600 {path}",
            )
        )
    if tracked_by_git(path):
        problems.append(
            (
                f"API {name} file {path} is tracked by git",
                f"git rm --cached {path}, add it to .gitignore, and rotate the key",
            )
        )
    return problems


class SecretsCheck(Check):
    name = "secrets"
    description = "API key/secret files present, readable, private, not in env or git"
    timeout_s = 10.0

    def run(self, ctx: CheckContext) -> Outcome:
        env = ctx.target_env
        plain = [var for var in PLAIN_VARS if env.get(var)]
        if plain:
            return Outcome.fail(
                f"{' and '.join(plain)} set as plain environment variable(s): any child process "
                "can read them",
                fix="unset them; put the values in files and set BYBIT_API_KEY_FILE / "
                "BYBIT_API_SECRET_FILE (or use /run/secrets)",
            )
        files = secret_files(ctx)
        if not files:
            if ctx.exchange.mode is ExchangeMode.RUN:
                return Outcome.ok("none needed: the run generates credentials for its simulator")
            if ctx.exchange.mode is ExchangeMode.NONE:
                return Outcome.skip("no credentials configured and the target uses no exchange")
            return Outcome.fail(
                "no Bybit credentials found",
                fix="put them in /run/secrets/bybit_api_key and bybit_api_secret, or name files "
                "with BYBIT_API_KEY_FILE / BYBIT_API_SECRET_FILE",
            )
        problems = [p for name in NAMES if name in files for p in file_problems(name, files[name])]
        missing = [name for name in NAMES if name not in files]
        problems += [
            (
                f"API {name} not found (the {other} is in {files[other]})",
                f"add bybit_api_{name} beside it or set BYBIT_API_{name.upper()}_FILE",
            )
            for name in missing
            for other in NAMES
            if other != name
        ]
        if problems:
            return Outcome.fail(
                "; ".join(p for p, _ in problems),
                fix="; ".join(dict.fromkeys(f for _, f in problems)),
                files={k: str(v) for k, v in files.items()},
            )
        return Outcome.ok(
            f"key and secret in {', '.join(sorted({str(p.parent) for p in files.values()}))}, "
            "private and untracked",
            files={k: str(v) for k, v in files.items()},
        )


def read_credentials(ctx: CheckContext) -> tuple[str, str] | None:
    """(api_key, api_secret) from the configured files, or None when not both readable."""
    files = secret_files(ctx)
    try:
        values = tuple(files[name].read_text(encoding="utf-8").strip() for name in NAMES)
    except (KeyError, OSError, UnicodeDecodeError):
        return None
    key, secret = values
    return (key, secret) if key and secret else None
