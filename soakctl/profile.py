"""Soak profiles (``workflows/*.yaml``, SPEC §7): a frozen, closed, typed model and its loader.

Unknown keys and bad values are :class:`~soakctl.errors.ProfileError` naming the file and the
key path (``target.backoff.base: expected a duration, got 'fast'``). Durations and sizes take
the human forms of :mod:`soakctl.units`. ``{run_dir}`` and ``{services.NAME.KEY}`` placeholders
stay as written here; the supervisor expands them when it starts each process.
"""

from __future__ import annotations

import shlex
import signal
import sys
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from soakctl.errors import ProfileError
from soakctl.units import parse_duration, parse_size

DEFAULT_PROFILE = "bot-sim"

Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]


def _argv(value: Any) -> list[str]:
    """A command as an argv list; a string is split like a POSIX shell would, without a shell."""
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ValueError(f"cannot split command {value!r}: {exc}") from None
    elif isinstance(value, list) and all(isinstance(a, str | int | float) for a in value):
        argv = [str(a) for a in value]
    else:
        raise ValueError(f"expected a command (list of strings or a string), got {value!r}")
    if not argv:
        raise ValueError("expected a non-empty command")
    return argv


Argv = Annotated[list[str], BeforeValidator(_argv)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Backoff(_Model):
    """Restart delay ``min(base * 2**attempt + jitter, max)``, jitter a fraction of the delay."""

    base_s: Duration = Field(1.0, alias="base", description="first delay")
    max_s: Duration = Field(60.0, alias="max", description="cap on any delay")
    jitter: float = Field(0.3, ge=0.0, le=1.0, description="random extra, 0..jitter of delay")
    reset_after_s: Duration = Field(
        60.0, alias="reset_after", description="a run this long resets the attempt count"
    )


def _check_signal(value: str) -> str:
    name = value.upper()
    if not name.startswith("SIG") and name != "CTRL_BREAK":
        name = "SIG" + name
    if name != "CTRL_BREAK" and sys.platform != "win32" and not hasattr(signal, name):
        raise ValueError(f"unknown signal {value!r}")
    return name


class ProcessSpec(_Model):
    """What the target and services share: how to start and stop a process."""

    command: Argv
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    stop_signal: str = "SIGTERM"
    stop_timeout_s: Duration = Field(30.0, alias="stop_timeout")

    _signal = field_validator("stop_signal")(classmethod(lambda cls, v: _check_signal(v)))


class Target(ProcessSpec):
    restart: Literal["never", "on-failure", "always"] = "on-failure"
    max_restarts: int = Field(5, ge=0)
    backoff: Backoff = Field(default_factory=Backoff)


class Ready(_Model):
    """How to tell a service is ready: a file appears, a TCP port accepts, or a URL answers 2xx."""

    file: str | None = None
    tcp: str | None = None
    http: str | None = None
    timeout_s: Duration = Field(20.0, alias="timeout")


class Service(ProcessSpec):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    ready: Ready | None = None
    stop_timeout_s: Duration = Field(10.0, alias="stop_timeout")


class Logs(_Model):
    max_bytes: Size = 50_000_000
    keep: int = Field(5, ge=1)


class Disk(_Model):
    min_free_bytes: Size = Field(1_000_000_000, alias="min_free")
    critical_free_bytes: Size = Field(100_000_000, alias="critical_free")


class AuditIgnore(_Model):
    """A known vulnerability accepted for a while, with the reason a reviewer will read."""

    id: str = Field(min_length=1, description="advisory id or alias (GHSA-, CVE-, PYSEC-)")
    package: str | None = Field(None, description="only excuse it for this package")
    reason: str = Field(min_length=3)
    expires: date = Field(description="last day the entry applies (YYYY-MM-DD)")


class Audit(_Model):
    ignore: list[AuditIgnore] = Field(default_factory=list)


class Profile(_Model):
    name: str = "adhoc"
    duration_s: Duration = Field(24 * 3600.0, alias="duration")
    interval_s: Duration = Field(1.0, alias="interval")
    target: Target | None = None
    services: list[Service] = Field(default_factory=list)
    logs: Logs = Field(default_factory=Logs)
    disk: Disk = Field(default_factory=Disk)
    metrics_url: str | None = None
    after: list[Argv] = Field(default_factory=list)
    criteria: list[str] = Field(default_factory=list)
    # Series judged for leaks besides RSS (default: resource-like names; docs/run-files.md)
    leak_series: list[str] | None = None
    audit: Audit = Field(default_factory=Audit)

    @field_validator("interval_s")
    @classmethod
    def _positive_interval(cls, value: float) -> float:
        if value < 0.01:
            raise ValueError("expected an interval of at least 10ms")
        return value


def _format_error(source: str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first["loc"]) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        message = "unknown key"
    elif kind == "missing":
        message = "required key is missing"
    else:
        message = str(first["msg"]).removeprefix("Value error, ")
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{source}: {path}: {message}{suffix}"


def parse_profile(data: Any, source: str = "<profile>") -> Profile:
    """Validate a loaded YAML document; raise ProfileError naming ``source`` and the key path."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: expected a mapping at the top level")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(_format_error(source, exc)) from None


def bundled_profiles_dir() -> Path | None:
    """Where the profiles shipped with soakctl live (wheel: inside the package; editable: repo)."""
    packaged = resources.files("soakctl") / "_workflows"
    if packaged.is_dir():
        return Path(str(packaged))
    repo = Path(__file__).resolve().parent.parent / "workflows"
    return repo if repo.is_dir() else None


def find_profile(name_or_path: str) -> Path:
    """A path as given, else ``./workflows/NAME.yaml``, else the bundled ``NAME.yaml``."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.parent != Path():
        if candidate.is_file():
            return candidate
        raise ProfileError(f"profile file not found: {name_or_path}")
    local = Path("workflows") / f"{name_or_path}.yaml"
    if local.is_file():
        return local
    bundled = bundled_profiles_dir()
    if bundled is not None and (bundled / f"{name_or_path}.yaml").is_file():
        return bundled / f"{name_or_path}.yaml"
    known = sorted(p.stem for p in bundled.glob("*.yaml")) if bundled else []
    raise ProfileError(
        f"profile {name_or_path!r} not found in ./workflows or the bundled profiles"
        + (f" (bundled: {', '.join(known)})" if known else "")
    )


def load_profile(name_or_path: str) -> Profile:
    """Find, read and validate a profile."""
    path = find_profile(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProfileError(f"{path}{where}: invalid YAML: {problem}") from None
    return parse_profile(data, str(path))
