"""What every check sees: the loaded profile, the environment, paths, and the exchange endpoints.

The context is built once per ``soakctl verify`` and shared read-only by the checks running in
parallel. A profile that does not load is not an error here: the ``profile`` check reports it and
the other checks fall back to the profile defaults.

Exchange endpoints, first match wins (docs/checks.md):

1. ``--exchange-url URL`` (REST; WebSocket URLs derived from it unless the env names them),
2. env ``MMBOT_REST_URL`` / ``MMBOT_WS_PUBLIC_URL`` / ``MMBOT_WS_PRIVATE_URL`` (docs/cli.md §8),
3. the same keys in the profile's ``target.env``; a ``{services...}`` placeholder there (or a
   service running ``mmbot sim``) means the run starts its own simulator: nothing to reach yet,
4. ``http://127.0.0.1:8900`` (the bot's default) when the target is ``mmbot``; any other target
   uses no exchange and the exchange checks are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from soakctl.errors import ProfileError, UsageError
from soakctl.profile import DEFAULT_PROFILE, Profile, load_profile

DEFAULT_REST_URL = "http://127.0.0.1:8900"
DEFAULT_RECV_WINDOW_MS = 5000
DEFAULT_ARTIFACTS_DIR = Path("artifacts/soak")
SECRETS_DIR = Path("/run/secrets")


class ExchangeMode(StrEnum):
    NONE = "none"  # the target does not talk to an exchange
    RUN = "run"  # the run starts its own simulator: nothing to reach before it starts
    EXTERNAL = "external"  # an exchange that must already be up


@dataclass(frozen=True, slots=True)
class Exchange:
    mode: ExchangeMode
    source: str  # where the URLs came from, for messages
    rest_url: str = ""
    ws_public_url: str = ""
    ws_private_url: str = ""


@dataclass(frozen=True, kw_only=True)
class CheckContext:
    """Read-only inputs of the checks; see the module docstring for how it is resolved."""

    profile: Profile | None
    profile_name: str
    profile_error: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path = field(default_factory=Path.cwd)
    artifacts_dir: Path = DEFAULT_ARTIFACTS_DIR
    exchange: Exchange = field(default_factory=lambda: Exchange(ExchangeMode.NONE, "no target"))
    recv_window_ms: int = DEFAULT_RECV_WINDOW_MS
    secrets_dir: Path = SECRETS_DIR
    audit_ignore_file: Path | None = None

    @property
    def effective_profile(self) -> Profile:
        """The profile, or its defaults when it did not load (the ``profile`` check says why)."""
        return self.profile if self.profile is not None else Profile.model_validate({})

    @property
    def target_env(self) -> dict[str, str]:
        """The environment the target will see: ours plus the profile's ``target.env``."""
        profile = self.profile
        extra = profile.target.env if profile is not None and profile.target is not None else {}
        return {**self.env, **extra}

    def resolve(self, path: str | Path) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.cwd / candidate


def _ws_urls(rest_url: str) -> tuple[str, str]:
    parts = urlsplit(rest_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"exchange URL must be http(s)://host:port, got {rest_url!r}")
    scheme = "wss" if parts.scheme == "https" else "ws"
    base = urlunsplit((scheme, parts.netloc, "", "", "")).rstrip("/")
    return f"{base}/v5/public/linear", f"{base}/v5/private"


def _external(rest_url: str, env: Mapping[str, str], source: str) -> Exchange:
    public, private = _ws_urls(rest_url)
    return Exchange(
        ExchangeMode.EXTERNAL,
        source,
        rest_url.rstrip("/"),
        env.get("MMBOT_WS_PUBLIC_URL") or public,
        env.get("MMBOT_WS_PRIVATE_URL") or private,
    )


def runs_mmbot(argv: list[str]) -> bool:
    return bool(argv) and Path(argv[0]).name.removesuffix(".exe") == "mmbot"


def resolve_exchange(
    profile: Profile | None, env: Mapping[str, str], exchange_url: str | None
) -> Exchange:
    """Where the exchange checks should look; see the module docstring for the order."""
    if exchange_url:
        return _external(exchange_url, env, "--exchange-url")
    if env.get("MMBOT_REST_URL"):
        return _external(env["MMBOT_REST_URL"], env, "env MMBOT_REST_URL")
    target = profile.target if profile is not None else None
    target_env = target.env if target is not None else {}
    rest = target_env.get("MMBOT_REST_URL", "")
    services = profile.services if profile is not None else []
    sim_service = next(
        (s.name for s in services if runs_mmbot(s.command) and s.command[1:2] == ["sim"]), None
    )
    if "{" in rest or (sim_service and not rest):
        return Exchange(ExchangeMode.RUN, f"started by the run (service {sim_service or '?'})")
    if rest:
        return _external(rest, target_env, "profile target.env MMBOT_REST_URL")
    mmbot_env = any(key.startswith("MMBOT_") for key in target_env)
    if target is not None and (runs_mmbot(target.command) or mmbot_env):
        return _external(DEFAULT_REST_URL, target_env, "default (mmbot's built-in URL)")
    return Exchange(ExchangeMode.NONE, "the target uses no exchange")


def build_context(
    profile_ref: str | None,
    *,
    exchange_url: str | None = None,
    artifacts_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    secrets_dir: Path = SECRETS_DIR,
    audit_ignore_file: Path | None = None,
) -> CheckContext:
    """Load the profile (a load error becomes ``profile_error``) and resolve everything else."""
    environ = dict(os.environ if env is None else env)
    name = profile_ref or DEFAULT_PROFILE
    profile: Profile | None = None
    error: str | None = None
    try:
        profile = load_profile(name)
    except ProfileError as exc:
        error = str(exc)
    exchange = resolve_exchange(profile, environ, exchange_url)
    recv_window = environ.get("MMBOT_RECV_WINDOW_MS", "")
    return CheckContext(
        profile=profile,
        profile_name=name,
        profile_error=error,
        env=environ,
        cwd=cwd or Path.cwd(),
        artifacts_dir=artifacts_dir or DEFAULT_ARTIFACTS_DIR,
        exchange=exchange,
        recv_window_ms=int(recv_window) if recv_window.isdigit() else DEFAULT_RECV_WINDOW_MS,
        secrets_dir=secrets_dir,
        audit_ignore_file=audit_ignore_file,
    )
