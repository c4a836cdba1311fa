"""``mmbot run`` and ``mmbot orders``: parse, build the config, call the core, map exit codes.

Bad input (config, credentials) exits 2 with one line naming what is wrong; a bot stopped by
a fatal condition exits 1 with the reason in its last log line; a clean stop exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import orjson
import typer

from bot.common.secrets import (
    Credentials,
    Secret,
    SecretError,
    load_credentials,
    load_credentials_dir,
)
from bot.config import BotConfig, ConfigError, load_config
from bot.errors import ExchangeError
from bot.logs import set_level as set_log_level
from bot.logs import setup_logging
from bot.metrics import BotMetrics
from bot.venues.registry import VENUES

logger = logging.getLogger("bot")

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML config (default: built-in defaults).")
]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"mmbot: {message}", err=True)
    return typer.Exit(2)


def _load(config: Path | None) -> tuple[BotConfig, Credentials]:
    try:
        cfg = load_config(config)
        if cfg.exchange.credentials_dir:
            creds = load_credentials_dir(Path(cfg.exchange.credentials_dir))
        else:
            found = load_credentials() or _sim_dev_credentials(cfg)
            if found is None:
                raise SecretError(
                    "no API credentials: put them in /run/secrets/bybit_api_key and "
                    "bybit_api_secret, name files with BYBIT_API_KEY_FILE / "
                    "BYBIT_API_SECRET_FILE, or set MMBOT_CREDENTIALS_DIR"
                )
            creds = found
    except (ConfigError, SecretError) as exc:
        raise _fail(str(exc)) from None
    if cfg.exchange.venue not in VENUES:
        known = ", ".join(sorted(VENUES))
        raise _fail(f"exchange.venue: unknown venue {cfg.exchange.venue!r} (known: {known})")
    return cfg, creds


def _sim_dev_credentials(cfg: BotConfig) -> Credentials | None:
    """The simulator's documented dev pair, only when the bot targets a loopback exchange."""
    host = urlsplit(cfg.exchange.rest_url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        return None
    from bot.sim.cli import DEV_API_KEY, DEV_API_SECRET

    logger.warning("no credentials configured: using mmbot sim's dev pair (loopback only)")
    return Credentials(Secret(DEV_API_KEY), Secret(DEV_API_SECRET), source="sim-dev")


def run(
    config: ConfigOpt = None,
    inject_leak: Annotated[
        float,
        typer.Option(
            "--inject-leak",
            metavar="MIB_PER_H",
            min=0.0,
            help="TEST ONLY: leak memory at this rate, to prove a soak catches leaks. Off (0).",
        ),
    ] = 0.0,
    trace_malloc: Annotated[
        bool,
        typer.Option(
            "--tracemalloc",
            envvar="MMBOT_TRACEMALLOC",
            help="Trace Python allocations; snapshots at /debug/tracemalloc on the metrics "
            "server (loopback only). Costs CPU and memory: see docs/bot.md. Off.",
        ),
    ] = False,
) -> None:
    """Run the market-making bot until SIGTERM/SIGINT (env overrides: see docs/bot.md)."""
    if trace_malloc:
        import tracemalloc

        tracemalloc.start(1)  # one frame: file:line is all a diff of sites needs
    from bot.runner import Bot

    setup_logging()
    cfg, creds = _load(config)
    set_log_level(cfg.log_level)

    bot = Bot(cfg, creds, inject_leak_mib_per_h=inject_leak)

    async def main() -> int:
        bot.install_signal_handlers()
        return await bot.run()

    code = asyncio.run(main())
    if code == 2:  # a permanent configuration error: one plain line, as for any bad input
        typer.echo(f"mmbot: {bot.stop_reason}", err=True)
    raise typer.Exit(code)


_ORDER_FIELDS = ("orderId", "orderLinkId", "side", "price", "qty", "orderStatus", "timeInForce")


async def _orders(cfg: BotConfig, creds: Credentials, cancel_all: bool) -> list[dict[str, str]]:
    from bot.clock import SystemClock
    from bot.venues.base import VenueContext, cancel_all_confirmed
    from bot.venues.registry import build_venue

    clock = SystemClock()
    venue = build_venue(
        cfg.exchange.venue, VenueContext(cfg, creds, BotMetrics(cfg.exchange.name), clock)
    )
    async with venue:
        await venue.load_instrument()
        if cancel_all:
            await cancel_all_confirmed(venue, clock, 20.0)
        rows = await venue.open_order_rows()
        return [{k: str(o.get(k, "")) for k in _ORDER_FIELDS} for o in rows]


def orders(
    config: ConfigOpt = None,
    open_only: Annotated[bool, typer.Option("--open", help="List open orders (default).")] = True,
    cancel_all: Annotated[
        bool, typer.Option("--cancel-all", help="Cancel every open order on the symbol first.")
    ] = False,
    fail_if_any: Annotated[
        bool, typer.Option("--fail-if-any", help="Exit 1 if open orders remain.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON only on stdout.")] = False,
) -> None:
    """List (and optionally cancel) the account's open orders on the configured symbol."""
    setup_logging("WARNING")
    cfg, creds = _load(config)
    try:
        found = asyncio.run(_orders(cfg, creds, cancel_all))
    except ExchangeError as exc:
        typer.echo(f"mmbot orders: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(orjson.dumps({"open_orders": found}).decode() + "\n")
    else:
        for o in found:
            typer.echo(
                f"{o['orderLinkId'] or o['orderId']} {o['side']} {o['qty']} @ "
                f"{o['price']} {o['orderStatus']}"
            )
        typer.echo(f"{len(found)} open order(s) on {cfg.exchange.symbol}")
    if fail_if_any and found:
        raise typer.Exit(1)
