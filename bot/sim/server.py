"""Assembling and running the simulator: the aiohttp app, its background loops, the ready file.

:func:`build_app` wires the exchange, REST dispatcher, WebSocket hub, control endpoints
(:mod:`bot.sim.control`) and the periodic loops (market tick, orderbook publishers per depth,
tickers, fault scheduler, idle watchdog) into one ``web.Application`` whose loops start and
stop with it, every task strongly referenced. :func:`serve` binds it, writes the ready file
atomically once the socket accepts connections, and returns when asked to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sim import control, endpoints, endpoints_account, endpoints_market
from bot.sim.auth import RestAuthenticator
from bot.sim.bookfeed import DEPTHS_MS
from bot.sim.clock import Clock, SystemClock
from bot.sim.config import SimConfig
from bot.sim.engine import Exchange
from bot.sim.faults import FaultState
from bot.sim.funding import Funding
from bot.sim.instruments import Category
from bot.sim.rest import RestApi
from bot.sim.wire import envelope
from bot.sim.ws import WsHub
from bot.sim.ws_trade import TradeGateway
from soakkit.atomic import write_text_atomic

logger = logging.getLogger(__name__)

SIM_KEY: web.AppKey[Simulator] = web.AppKey("simulator")
FAULT_CHECK_S = 0.05
# aiohttp's HTTP parser answers over-long request lines and headers itself (400 text/plain,
# before any handler): raise its limits so real and silly-but-plausible requests reach the
# dispatcher and get a Bybit-style error body instead.
PARSER_LIMITS: dict[str, Any] = {"max_line_size": 65536, "max_field_size": 65536}


@dataclass(slots=True)
class Simulator:
    """Everything one running simulator owns."""

    config: SimConfig
    clock: Clock
    faults: FaultState
    exchange: Exchange
    rest: RestApi
    hub: WsHub
    started: float = field(default_factory=time.monotonic)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    internal_errors: int = 0
    extra_loops: list[tuple[float, Callable[[], Any], str]] = field(default_factory=list)

    async def _every(
        self, interval_s: float, step: Callable[..., Any], name: str, *, slotted: bool = False
    ) -> None:
        """Run ``step`` every ``interval_s`` without drift; a failing step is logged, counted.

        A ``slotted`` step is given the scheduled time of its slot: steps the loop got to late
        (timers wake at millisecond granularity, so sub-millisecond cadences always run late)
        still stand for their own slot, and a scaled-down cadence keeps its rate.
        """
        deadline = time.monotonic()
        while True:
            deadline += interval_s
            delay = deadline - time.monotonic()
            if delay < -1.0:  # fell far behind (machine stalled): do not burst to catch up
                deadline = time.monotonic()
            await asyncio.sleep(max(0.0, delay))
            try:
                result = step(deadline) if slotted else step()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                self.internal_errors += 1
                logger.exception("simulator loop %s failed", name)

    def start_loops(self) -> None:
        cfg = self.config
        last_step = [time.monotonic()]

        async def market_step() -> None:
            now = time.monotonic()
            dt, last_step[0] = min(now - last_step[0], 1.0), now
            for market in self.exchange.markets.values():
                self.exchange.step_market(market, dt)
                await asyncio.sleep(0)  # let requests in between symbols: shorter stalls

        def book_step(depth: int) -> Callable[[float], None]:
            def step(slot_s: float) -> None:
                for feed in self.hub.feeds.values():
                    for topic in feed.active():
                        if topic.depth == depth:
                            feed.publish(topic, slot_s)

            return step

        loops: list[tuple[float, Callable[[], Any], str]] = [
            (cfg.tick_interval_ms / 1000, market_step, "market"),
            (0.1 * cfg.cadence_scale, lambda: self.hub.tickers.publish(Category.LINEAR), "tickers"),
            (0.05 * cfg.cadence_scale, lambda: self.hub.tickers.publish(Category.SPOT), "tickers"),
            (FAULT_CHECK_S, self.apply_faults, "faults"),
            (min(1.0, cfg.public_idle_timeout_s / 4), self.hub.close_idle, "idle"),
            (0.5, self.hub.dcp.check, "dcp"),
        ]
        for interval_s, step, name in [*loops, *self.extra_loops]:
            task = asyncio.create_task(self._every(interval_s, step, name), name=f"sim-{name}")
            self.tasks.add(task)
        for depth, ms in DEPTHS_MS.items():
            name = f"orderbook.{depth}"
            every = self._every(ms / 1000 * cfg.cadence_scale, book_step(depth), name, slotted=True)
            self.tasks.add(asyncio.create_task(every, name=f"sim-{name}"))

    async def stop_loops(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()

    def apply_faults(self) -> None:
        now = time.monotonic()
        for name in self.faults.due(now):
            self.faults.fired(name, now, applied=self._apply(name))

    def _apply(self, name: str) -> bool:
        feeds = self.hub.feeds.values()
        if name == "ws_drop_every_s":
            return self.hub.drop_all()
        if name == "ws_stall_every_s":
            return self.hub.stall_all(self.faults.duration_s("ws_stall_s"))
        if name == "book_stale_every_s":
            duration = self.faults.duration_s("book_stale_s")
            return _any_of([f.fault_stale(duration) for f in feeds])
        action = {
            "book_gap_every_s": "fault_gap",
            "book_reset_every_s": "fault_reset",
            "book_dup_every_s": "fault_dup",
            "book_reorder_every_s": "fault_reorder",
            "book_crossed_every_s": "fault_crossed",
        }[name]
        return _any_of([getattr(f, action)() for f in feeds])


def _any_of(applied: list[bool]) -> bool:
    """``any`` over results already computed (every feed must get the fault, no short cut)."""
    return True in applied


@web.middleware
async def _never_500(request: web.Request, handler: Any) -> web.StreamResponse:
    """Router errors and bugs still answer in the Bybit envelope, never HTML or a bare 500."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        now = time.time_ns() // 1_000_000
        return web.Response(
            body=envelope({}, now, code=10017, message=exc.reason),
            status=exc.status,
            content_type="application/json",
        )
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception:
        sim = request.app[SIM_KEY]
        sim.internal_errors += 1
        logger.exception("unhandled error on %s %s", request.method, request.path)
        now = time.time_ns() // 1_000_000
        return web.Response(
            body=envelope({}, now, code=10016, message="Internal server error."),
            status=200,
            content_type="application/json",
        )


def build_app(
    config: SimConfig,
    keys: dict[str, str],
    *,
    clock: Clock | None = None,
    faults: FaultState | None = None,
) -> web.Application:
    """The simulator as an aiohttp app (loops start on app startup)."""
    fault_state = faults or FaultState(config.seed, {})
    sim_clock = clock or SystemClock(lambda: fault_state.clock_skew_ms)
    exchange = Exchange(config, sim_clock)
    auth = RestAuthenticator(keys)
    rest = RestApi(
        exchange,
        auth,
        fault_state,
        rate_limits=config.rate_limits,
        ghost_hold_s=config.ghost_hold_s,
        auth_error_http_status=config.auth_error_http_status,
    )
    hub = WsHub(exchange, auth, config)
    endpoints.register(rest, exchange, hub.dcp.window_s)
    sim = Simulator(config, sim_clock, fault_state, exchange, rest, hub)
    market_data = endpoints_market.MarketData(exchange, config.kline_history_minutes, config.seed)
    endpoints_market.register(rest, market_data)
    endpoints_account.register(rest, exchange)
    klines = endpoints_market.KlineFeed(market_data)
    hub.topic_feeds.append(klines)
    funding = Funding(exchange, config.funding_interval_s, config.funding_rate)
    sim.extra_loops += [
        (0.5 * config.cadence_scale, klines.publish, "klines"),
        (1.0, funding.check, "funding"),
    ]
    app = web.Application(middlewares=[_never_500], client_max_size=256 * 1024)
    app[SIM_KEY] = sim
    app.router.add_route("*", "/v5/public/linear", hub.handler("linear"))
    app.router.add_route("*", "/v5/public/spot", hub.handler("spot"))
    app.router.add_route("*", "/v5/private", hub.handler("private"))
    hub.trade = TradeGateway(rest, auth)
    app.router.add_route("*", "/v5/trade", hub.handler("trade"))
    app.router.add_route("*", "/v5/{tail:.*}", rest.handle)
    control.register(app, sim)

    async def on_startup(_: web.Application) -> None:
        sim.start_loops()

    async def on_shutdown(_: web.Application) -> None:
        await hub.close_all()

    async def on_cleanup(_: web.Application) -> None:
        await sim.stop_loops()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


def ready_urls(host: str, port: int) -> dict[str, str]:
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 (bound to all: clients still use loopback)
        host = "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    return {
        "rest_url": f"http://{shown}:{port}",
        "ws_public_url": f"ws://{shown}:{port}/v5/public/linear",
        "ws_public_spot_url": f"ws://{shown}:{port}/v5/public/spot",
        "ws_private_url": f"ws://{shown}:{port}/v5/private",
    }


def write_ready_file(path: Path, data: dict[str, Any]) -> None:
    """Atomically (temp file + ``os.replace``) so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


async def serve(
    config: SimConfig,
    keys: dict[str, str],
    *,
    faults: FaultState,
    ready_file: Path | None,
    stop: asyncio.Event,
) -> None:
    """Run until ``stop`` is set; the ready file appears once the port accepts connections."""
    app = build_app(config, keys, faults=faults)
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=2.0, **PARSER_LIMITS
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port, reuse_address=True)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only here
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        urls = ready_urls(config.host, port)
        # Startup objects (instruments, books, app) live for the whole run: keep them out of
        # every later collection so full GC pauses stay short (tail latency).
        gc.freeze()
        if ready_file is not None:
            write_ready_file(ready_file, {**urls, "port": port, "pid": os.getpid()})
        logger.info("mmbot sim listening on %s (seed %d)", urls["rest_url"], config.seed)
        await stop.wait()
        logger.info("mmbot sim stopping")
    finally:
        await runner.cleanup()
