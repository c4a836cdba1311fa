"""The bot's configuration: one frozen, closed, typed model, loaded from YAML plus env overrides.

Every field documents its unit and default; unknown keys are errors naming the key path, like
the soak profiles (pydantic, ``extra="forbid"``). Defaults target ``mmbot sim`` on its default
port (``127.0.0.1:8900``), so ``mmbot run`` with no arguments trades against a local simulator.
Env overrides (docs/cli.md §8): ``MMBOT_REST_URL``, ``MMBOT_WS_PUBLIC_URL``,
``MMBOT_WS_PRIVATE_URL``, ``MMBOT_SYMBOL``, ``MMBOT_METRICS_PORT`` (``0`` = any free port,
logged at startup) and ``MMBOT_CREDENTIALS_DIR``. Quantities and prices are ``Decimal``: they
are compared and rounded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from soakkit.config_errors import format_validation_error

DEFAULT_SIM_PORT = 8900


class ConfigError(Exception):
    """The config file or an override is invalid; the message names the file and key path."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExchangeConfig(_Model):
    name: str = Field("bybit", description="the `exchange` label on metrics")
    venue: str = Field("bybit", description="which venue package trades (bot.venues.registry)")
    rest_url: str = f"http://127.0.0.1:{DEFAULT_SIM_PORT}"
    ws_public_url: str = f"ws://127.0.0.1:{DEFAULT_SIM_PORT}/v5/public/linear"
    ws_private_url: str = f"ws://127.0.0.1:{DEFAULT_SIM_PORT}/v5/private"
    category: Literal["linear"] = "linear"
    symbol: str = Field("BTCUSDT", pattern=r"^[A-Z0-9]{2,20}$")
    recv_window_ms: int = Field(5000, ge=100, le=60_000)
    credentials_dir: str | None = Field(
        None, description="directory holding bybit_api_key / bybit_api_secret (a soak run's)"
    )


class HttpConfig(_Model):
    pool_limit: int = Field(100, ge=1, description="connections in the pool, all hosts")
    pool_limit_per_host: int = Field(30, ge=1)
    keepalive_s: float = Field(30.0, gt=0)
    dns_cache_s: float = Field(300.0, ge=0)
    timeout_s: float = Field(5.0, gt=0, description="whole request; past it the result is unknown")
    max_retries: int = Field(3, ge=0, description="for safe (idempotent) requests only")
    retry_base_s: float = Field(0.2, gt=0)
    pace_requests: bool = Field(True, description="token bucket per endpoint at Bybit's limits")


class WsConfig(_Model):
    ping_interval_s: float = Field(20.0, gt=0, description="app-level JSON ping (Bybit: 20 s)")
    silence_timeout_s: float = Field(
        30.0, gt=0, description="close a socket that sent nothing (not even a pong) this long"
    )
    connect_timeout_s: float = Field(10.0, gt=0)
    backoff_base_s: float = Field(1.0, gt=0, description="delay = min(base*2**n + jitter, max)")
    backoff_max_s: float = Field(60.0, gt=0)
    backoff_jitter: float = Field(0.3, ge=0, le=1, description="jitter: 0..this x base*2**n")
    max_attempts: int = Field(20, ge=0, description="failures in a row before giving up; 0=never")
    depth: Literal[1, 50, 200, 1000] = 50


class StrategyConfig(_Model):
    levels: int = Field(1, ge=1, le=10, description="quotes per side")
    order_qty: Decimal = Field(Decimal("0.001"), gt=0, description="base coin per quote")
    offset_ticks: int = Field(0, ge=0, description="distance behind the touch of level 1")
    level_spacing_ticks: int = Field(1, ge=1)
    refresh_tolerance_ticks: int = Field(1, ge=0, description="drift kept before re-pricing")
    min_refresh_interval_s: float = Field(
        0.25, ge=0, description="re-price a live quote at most this often (pacing by design)"
    )
    skew_ticks_at_limit: int = Field(2, ge=0, description="shift at full position, per side")


class RiskConfig(_Model):
    max_position: Decimal = Field(Decimal("0.01"), gt=0, description="abs base-coin position")
    max_open_orders: int = Field(10, ge=1)
    max_submits_per_s: float = Field(8.0, gt=0, description="create+amend+cancel budget")
    max_errors: int = Field(30, ge=1, description="order errors within error_window_s -> halt")
    error_window_s: float = Field(60.0, gt=0)
    book_stale_s: float = Field(5.0, gt=0, description="no quoting on a book older than this")
    private_quiet_s: float = Field(15.0, gt=0, description="poll REST when private WS is quiet")
    max_drawdown_quote: Decimal = Field(Decimal(1000), gt=0, description="kill switch, USDT")


class MetricsConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(9464, ge=0, le=65535, description="0 = any free port (logged)")


class BotConfig(_Model):
    exchange: ExchangeConfig = Field(default_factory=ExchangeConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    ws: WsConfig = Field(default_factory=WsConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    shutdown_timeout_s: float = Field(30.0, gt=0, le=35, description="bound on graceful stop")
    reconcile_interval_s: float = Field(5.0, gt=0, description="REST check of unknown orders")
    quote_on_book: bool = Field(
        True, description="re-quote on every book push; false = on a 250 ms timer only"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _consistent(self) -> BotConfig:
        if self.ws.backoff_max_s < self.ws.backoff_base_s:
            raise ValueError("ws.backoff_max_s must be >= ws.backoff_base_s")
        if self.strategy.order_qty > self.risk.max_position:
            raise ValueError("strategy.order_qty must be <= risk.max_position")
        return self


ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "MMBOT_REST_URL": ("exchange", "rest_url"),
    "MMBOT_WS_PUBLIC_URL": ("exchange", "ws_public_url"),
    "MMBOT_WS_PRIVATE_URL": ("exchange", "ws_private_url"),
    "MMBOT_SYMBOL": ("exchange", "symbol"),
    "MMBOT_METRICS_PORT": ("metrics", "port"),
    "MMBOT_CREDENTIALS_DIR": ("exchange", "credentials_dir"),
}


def _env_origin(path: str) -> str | None:
    env = next((k for k, v in ENV_OVERRIDES.items() if ".".join(v) == path), None)
    return f"env {env}" if env else None


def build_config(data: Mapping[str, Any] | None, env: Mapping[str, str], source: str) -> BotConfig:
    """Validate ``data`` with the env overrides applied; ConfigError names the key path."""
    items = (data or {}).items()
    merged: dict[str, Any] = {k: dict(v) if isinstance(v, dict) else v for k, v in items}
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            part = merged.setdefault(section, {})
            if not isinstance(part, dict):
                raise ConfigError(f"{source}: {section}: expected a mapping")
            part[key] = env[var]
    try:
        return BotConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc, _env_origin)) from None


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> BotConfig:
    """The config from ``path`` (YAML; none = defaults) with env overrides applied."""
    environ = os.environ if env is None else env
    data: Any = None
    source = "<defaults>"
    if path is not None:
        source = str(path)
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"{source}{where}: invalid YAML") from None
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping at the top level")
    return build_config(data, environ, source)
