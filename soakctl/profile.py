"""Soak profiles (``workflows/*.yaml``): a frozen, closed, typed model and its loader.

Contract: docs/cli.md §7.

Unknown keys and bad values are :class:`~soakctl.errors.ProfileError` naming the file and the
key path (``target.backoff.base: expected a duration, got 'fast'``). Durations and sizes take
the human forms of :mod:`soakctl.units`. ``{run_dir}`` and ``{services.NAME.KEY}`` placeholders
stay as written here; the supervisor expands them when it starts each process.
"""

from __future__ import annotations

import re
import shlex
import signal
import sys
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from soakctl.errors import ProfileError
from soakctl.units import parse_duration, parse_size
from soakkit.config_errors import format_validation_error

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
    liveness: Liveness | None = None


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
    error_levels: list[str] = Field(
        default_factory=lambda: ["ERROR"], min_length=1,
        description="words that mark an error log line (counted as error_log_lines)",
    )


class Liveness(_Model):
    """Is the target still doing its job? One probe kind, as Docker HEALTHCHECK / k8s liveness.

    ``http``: a 2xx answer; ``command``: exit 0; ``log``: a line matching the regex was written
    since the previous probe. Probes before ``start_period`` ends do not count.
    """

    http: str | None = None
    command: Argv | None = None
    log: str | None = None
    every_s: Duration = Field(10.0, alias="every")
    timeout_s: Duration = Field(5.0, alias="timeout")
    failures: int = Field(3, ge=1, description="consecutive failures that make it unhealthy")
    start_period_s: Duration = Field(30.0, alias="start_period")

    @model_validator(mode="after")
    def _one_kind(self) -> Liveness:
        kinds = [k for k in ("http", "command", "log") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of http, command, log")
        if self.log is not None:
            try:
                re.compile(self.log)
            except re.error as exc:
                raise ValueError(f"log: invalid regular expression: {exc}") from None
        if self.every_s < 0.1 or self.timeout_s <= 0:
            raise ValueError("every must be at least 100ms and timeout positive")
        return self


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


class AbortOnFail(_Model):
    """Live evaluation for ``abort_on_fail``: first after ``after``, then every ``every``."""

    after_s: Duration = Field(600.0, alias="after")
    every_s: Duration = Field(120.0, alias="every")

    @model_validator(mode="after")
    def _positive(self) -> AbortOnFail:
        if self.every_s < 1.0:
            raise ValueError("every must be at least 1s")
        return self


def _abort_on_fail(value: Any) -> Any:
    """``true`` means the defaults, ``false``/null means off."""
    if value is True:
        return {}
    if value is False:
        return None
    return value


class Profile(_Model):
    name: str = "adhoc"
    duration_s: Duration = Field(24 * 3600.0, alias="duration")
    interval_s: Duration = Field(1.0, alias="interval")
    target: Target | None = None
    services: list[Service] = Field(default_factory=list)
    logs: Logs = Field(default_factory=Logs)
    disk: Disk = Field(default_factory=Disk)
    metrics_url: str | None = None
    metrics_listen: str | None = None  # HOST:PORT for `soakctl run --metrics-listen`
    after: list[Argv] = Field(default_factory=list)
    criteria: list[str] = Field(default_factory=list)
    # Series judged for leaks besides RSS (default: resource-like names; docs/run-files.md)
    leak_series: list[str] | None = None
    audit: Audit = Field(default_factory=Audit)
    abort_on_fail: Annotated[AbortOnFail | None, BeforeValidator(_abort_on_fail)] = None
    diagnose: list[Argv] = Field(
        default_factory=list, description="commands run at start, first live leak and end")
    tracemalloc_url: str | None = Field(
        None, description="a Python target's tracemalloc snapshot endpoint (loopback)")

    @field_validator("metrics_listen")
    @classmethod
    def _listen_address(cls, value: str | None) -> str | None:
        if value is not None:
            from soakctl.exporter import parse_listen

            parse_listen(value)  # ValueError names what is wrong
        return value

    @field_validator("interval_s")
    @classmethod
    def _positive_interval(cls, value: float) -> float:
        if value < 0.01:
            raise ValueError("expected an interval of at least 10ms")
        return value


def parse_profile(data: Any, source: str = "<profile>") -> Profile:
    """Validate a loaded YAML document; raise ProfileError naming ``source`` and the key path."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: expected a mapping at the top level")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(format_validation_error(source, exc)) from None


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
