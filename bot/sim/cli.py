"""``mmbot sim``: parse options, resolve credentials, configure logging, run the simulator.

Credentials, first found wins: ``--credentials-dir`` / ``MMBOT_CREDENTIALS_DIR`` (created with
a random 0600 pair if absent, shared with the bot of the same run), the bot's secret sources
(``/run/secrets``, ``BYBIT_API_*_FILE``, env), else the documented dev pair
(:data:`DEV_API_KEY`; see docs/simulator.md). Values are never logged. SIGTERM and SIGINT stop
it cleanly with exit 0; bad options exit 2 with one line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from bot.common.redact import RedactionFilter
from bot.common.secrets import (
    CREDENTIALS_DIR_ENV,
    SecretError,
    ensure_credentials_dir,
    load_credentials,
)
from bot.sim.auth import mask_key
from bot.sim.config import SimConfig
from bot.sim.faults import FaultSpecError, FaultState, parse_spec

logger = logging.getLogger("bot.sim")

DEV_API_KEY = "mmbotsimdevkey"
DEV_API_SECRET = "mmbot-sim-dev-secret-loopback-only"  # noqa: S105 (documented dev default)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"mmbot sim: {message}", err=True)
    return typer.Exit(2)


def _credentials(credentials_dir: Path | None) -> tuple[dict[str, str], str]:
    directory = credentials_dir or (
        Path(os.environ[CREDENTIALS_DIR_ENV]) if os.environ.get(CREDENTIALS_DIR_ENV) else None
    )
    if directory is not None:
        creds = ensure_credentials_dir(directory)
    else:
        loaded = load_credentials()
        if loaded is None:
            return {DEV_API_KEY: DEV_API_SECRET}, "dev default"
        creds = loaded
    return {creds.api_key.reveal(): creds.api_secret.reveal()}, creds.source


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactionFilter())
    root = logging.getLogger("bot")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def _decimal(name: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _fail(f"--{name}: not a number: {text!r}") from None
    if not value.is_finite() or abs(value) >= 1:
        raise _fail(f"--{name}: rate must be a fraction in (-1, 1), got {text}")
    return value


def sim(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            help="Port (8900, where mmbot run looks by default); 0 picks a free one.",
            min=0,
            max=65535,
        ),
    ] = 8900,
    seed: Annotated[int, typer.Option(help="Seed of prices, flow, ids and fault dice.")] = 0,
    faults: Annotated[
        str, typer.Option(help="Faults: name=value,... (see docs/simulator.md).")
    ] = "",
    ready_file: Annotated[
        Path | None, typer.Option(help="Write {rest_url, ws_public_url, ws_private_url} here.")
    ] = None,
    credentials_dir: Annotated[
        Path | None, typer.Option(help=f"Run credentials directory (env {CREDENTIALS_DIR_ENV}).")
    ] = None,
    maker_fee: Annotated[
        str, typer.Option(help="Maker fee rate; negative is a rebate.")
    ] = "-0.00005",
    taker_fee: Annotated[str, typer.Option(help="Taker fee rate.")] = "0.00055",
    tick_interval_ms: Annotated[float, typer.Option(help="Market process step.", min=1)] = 100.0,
    taker_rate: Annotated[
        float, typer.Option(help="Taker orders per symbol per second.", min=0)
    ] = 4.0,
    taker_size_levels: Annotated[
        float, typer.Option(help="Mean taker size, in mean book-level sizes.", min=0.001)
    ] = 0.4,
    taker_size_sigma: Annotated[
        float, typer.Option(help="Log-normal shape of taker sizes (0 = all alike).", min=0)
    ] = 1.2,
    mid_moves_per_s: Annotated[
        float, typer.Option(help="Jumps of the mid price per second.", min=0)
    ] = 0.5,
    garch_alpha: Annotated[
        float, typer.Option(help="GARCH(1,1) weight of the last squared jump.", min=0, max=0.999)
    ] = 0.05,
    garch_beta: Annotated[
        float, typer.Option(help="GARCH(1,1) persistence of the variance.", min=0, max=0.999)
    ] = 0.90,
    touch_depth_levels: Annotated[
        float, typer.Option(help="Mean size at the touch, in mean level sizes.", min=0.001)
    ] = 3.0,
    funding_interval_s: Annotated[
        float, typer.Option(help="Funding period of perpetuals (Bybit: 8 h).", min=1)
    ] = 28_800.0,
    funding_rate: Annotated[str, typer.Option(help="Funding rate per period.")] = "0.0001",
    kline_history_minutes: Annotated[
        int, typer.Option(help="Seeded 1m candles before the start.", min=0, max=10_080)
    ] = 1440,
    cadence_scale: Annotated[
        float, typer.Option(help="Multiplier on push intervals.", min=0.01)
    ] = 1.0,
    ws_latency_ms: Annotated[float, typer.Option(help="Delay before every WS frame.", min=0)] = 3.0,
    public_idle_timeout_s: Annotated[
        float, typer.Option(help="Close silent public sockets.", min=1)
    ] = 60.0,
    rate_limits: Annotated[bool, typer.Option(help="Enforce Bybit's per-endpoint limits.")] = True,
    auth_error_status: Annotated[
        int, typer.Option(help="HTTP status of 10003/10004 answers (Bybit: 200, or 401).")
    ] = 200,
    level1_repush_s: Annotated[
        float, typer.Option(help="Re-push an unchanged level-1 book after this long.", min=0.0001)
    ] = 3.0,
    ghost_hold_s: Annotated[
        float, typer.Option(help="How long a ghost reply is held.", min=0)
    ] = 10.0,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
) -> None:
    """Run the local Bybit v5 exchange simulator (REST + WebSockets on one port)."""
    if auth_error_status not in (200, 401):
        raise _fail(f"--auth-error-status: 200 or 401, got {auth_error_status}")
    if log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise _fail(f"--log-level: unknown level {log_level!r}")
    _configure_logging(log_level)
    try:
        active = parse_spec(faults)
    except FaultSpecError as exc:
        raise _fail(f"--faults: {exc}") from None
    config = SimConfig(
        host=host,
        port=port,
        seed=seed,
        maker_fee=_decimal("maker-fee", maker_fee),
        taker_fee=_decimal("taker-fee", taker_fee),
        tick_interval_ms=tick_interval_ms,
        taker_rate_per_s=taker_rate,
        taker_size_levels=taker_size_levels,
        taker_size_sigma=taker_size_sigma,
        mid_moves_per_s=mid_moves_per_s,
        garch_alpha=garch_alpha,
        garch_beta=garch_beta,
        touch_depth_levels=touch_depth_levels,
        funding_interval_s=funding_interval_s,
        funding_rate=_decimal("funding-rate", funding_rate),
        kline_history_minutes=kline_history_minutes,
        cadence_scale=cadence_scale,
        ws_latency_ms=ws_latency_ms,
        public_idle_timeout_s=public_idle_timeout_s,
        rate_limits=rate_limits,
        ghost_hold_s=ghost_hold_s,
        level1_repush_s=level1_repush_s,
        auth_error_http_status=auth_error_status,
    )
    try:
        keys, source = _credentials(credentials_dir)
    except (SecretError, OSError) as exc:
        raise _fail(str(exc)) from None
    api_key = next(iter(keys))
    if source == "dev default":
        logger.warning(
            "no credentials configured: accepting the dev key %s (docs/simulator.md)",
            mask_key(api_key),
        )
    else:
        logger.info("credentials from %s (key %s)", source, mask_key(api_key))
    try:
        asyncio.run(_run(config, keys, FaultState(seed, active), ready_file))
    except OSError as exc:
        raise _fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None


async def _run(
    config: SimConfig, keys: dict[str, str], faults: FaultState, ready_file: Path | None
) -> None:
    from bot.sim.server import serve  # aiohttp only when actually serving

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # SIGBREAK is what CTRL_BREAK_EVENT delivers on Windows (how the supervisor stops us there).
    signals = [
        signal.SIGTERM,
        signal.SIGINT,
        *([signal.SIGBREAK] if hasattr(signal, "SIGBREAK") else []),
    ]
    for signum in signals:
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: KeyboardInterrupt path instead
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))
    await serve(config, keys, faults=faults, ready_file=ready_file, stop=stop)
