"""Test tools: a real simulator on 127.0.0.1 (port 0) in a background thread, and signed requests.

The server thread runs the real aiohttp app with its own event loop, so synchronous clients
(pybit, requests) and ``asyncio.run`` clients in the test both talk to it over real sockets.
Time constants are shrunk so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from aiohttp import web

from bot.bybit_v5.signing import rest_headers
from bot.sim.config import SimConfig
from bot.sim.faults import FaultState
from bot.sim.harness import limit_order
from bot.sim.server import PARSER_LIMITS, SIM_KEY, Simulator, build_app

__all__ = ["API_KEY", "API_SECRET", "RemoteSim", "SimThread", "limit_order", "signed", "wait_for"]

API_KEY = "testkey0001"
API_SECRET = "testsecret-0001-abcdef"

FAST = {
    "tick_interval_ms": 20.0,
    "ws_latency_ms": 1.0,
    "cadence_scale": 0.5,
    "rate_limits": False,
    "ghost_hold_s": 0.5,
}


class SimThread:
    """The simulator app served from a daemon thread until :meth:`stop`."""

    def __init__(self, config: SimConfig, faults: dict[str, Any] | None = None) -> None:
        self.config = config
        self.fault_state = FaultState(config.seed, faults or {})
        self.port = 0
        self.sim: Simulator | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="sim-server", daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = build_app(self.config, {API_KEY: API_SECRET}, faults=self.fault_state)
        self.sim = app[SIM_KEY]
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0, **PARSER_LIMITS
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def start(self) -> SimThread:
        self._thread.start()
        assert self._ready.wait(10), "simulator did not start"
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive(), "simulator thread did not stop"

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the server loop (safe access to simulator state) and return its result."""
        assert self._loop is not None

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(5)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def stats(self) -> dict[str, Any]:
        return requests.get(f"{self.rest_url}/sim/stats", timeout=5).json()

    def set_faults(self, faults: dict[str, Any]) -> dict[str, Any]:
        reply = requests.post(f"{self.rest_url}/sim/faults", json=faults, timeout=5)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def trade(self, side: str, qty: str, symbol: str = "BTCUSDT", category: str = "linear") -> str:
        reply = requests.post(
            f"{self.rest_url}/sim/trade",
            json={"category": category, "symbol": symbol, "side": side, "qty": qty},
            timeout=5,
        )
        assert reply.status_code == 200, reply.text
        return str(reply.json()["filledQty"])


class RemoteSim:
    """A simulator reached by URL only (e.g. a ``mmbot sim`` subprocess)."""

    def __init__(self, rest_url: str) -> None:
        self.rest_url = rest_url


def signed(
    server: SimThread | RemoteSim,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    key: str = API_KEY,
    secret: str = API_SECRET,
    timestamp_ms: int | None = None,
    recv_window: str = "5000",
    body: str | None = None,
    query: str | None = None,
    timeout_s: float = 5.0,
) -> requests.Response:
    """A signed request built the way pybit builds it (or with an explicit raw body/query)."""
    ts = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    if method == "GET":
        payload = (
            query
            if query is not None
            else "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        )
        url = f"{server.rest_url}{path}?{payload}" if payload else f"{server.rest_url}{path}"
        data = None
    else:
        payload = body if body is not None else json.dumps(params or {})
        url = f"{server.rest_url}{path}"
        data = payload.encode()
    headers = rest_headers(key, secret, ts, recv_window, payload)
    headers["Content-Type"] = "application/json"
    return requests.request(method, url, data=data, headers=headers, timeout=timeout_s)


def wait_for(condition: Callable[[], Any], timeout_s: float = 10.0, what: str = "condition") -> Any:
    """Poll ``condition`` until truthy (returned) or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
