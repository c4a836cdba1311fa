"""ccxt against a real ``mmbot sim`` subprocess: launch it (port 0, ready file, its own
credentials directory), and build ccxt / ccxt.pro clients changed only in their URLs.

ccxt is used unmodified with default options: :func:`point_at` replaces every URL ccxt's
bybit (REST: ``spot``, ``futures``, ``v2``, ``public``, ``private``) and ccxt.pro's bybit
(``ws.public.{spot,linear,inverse,option}``, ``ws.private.*``) would use, as a user would.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import ccxt.pro

T = TypeVar("T")
CALL_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class RunningSim:
    rest_url: str
    api_key: str
    api_secret: str
    proc: subprocess.Popen[str]

    @property
    def ws_url(self) -> str:
        return "ws" + self.rest_url.removeprefix("http")


@contextmanager
def launch_sim(
    mmbot_bin: str, env: dict[str, str], workdir: Path, *args: str
) -> Iterator[RunningSim]:
    """``mmbot sim`` on a free port until the block ends (terminated, then killed)."""
    creds = workdir / "creds"
    creds.mkdir(mode=0o700)
    key, secret = "ccxt" + secrets.token_hex(6), secrets.token_hex(16)
    for name, value in (("bybit_api_key", key), ("bybit_api_secret", secret)):
        path = creds / name
        path.write_text(value + "\n", encoding="utf-8")
        path.chmod(0o600)
    ready = workdir / "ready.json"
    log = (workdir / "sim.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [
            *(mmbot_bin, "sim", "--port", "0", "--ready-file", str(ready)),
            *("--credentials-dir", str(creds), "--log-level", "warning", *args),
        ],
        env=env,
        text=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            if proc.poll() is not None:
                raise AssertionError(f"sim exited early: {(workdir / 'sim.log').read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError("sim wrote no ready file within 30 s")
            time.sleep(0.05)
        data = json.loads(ready.read_text())
        yield RunningSim(data["rest_url"], key, secret, proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        log.close()


def point_at(exchange: Any, sim: RunningSim) -> Any:
    """Every REST and WebSocket URL of ccxt(.pro)'s bybit → the simulator."""
    rest, ws = sim.rest_url, sim.ws_url
    api = dict.fromkeys(("spot", "futures", "v2", "public", "private"), rest)
    api["ws"] = {
        "public": {c: f"{ws}/v5/public/{c}" for c in ("spot", "linear", "inverse", "option")},
        "private": {
            "spot": {"unified": f"{ws}/v5/private", "nonUnified": f"{ws}/v5/private"},
            "contract": f"{ws}/v5/private",
            "usdc": f"{ws}/v5/private",
            "trade": f"{ws}/v5/trade",
        },
    }
    exchange.urls["api"] = api
    return exchange


def client(sim: RunningSim) -> Any:
    """A ccxt.pro bybit (REST and WebSocket) with keys set and default options."""
    return point_at(ccxt.pro.bybit({"apiKey": sim.api_key, "secret": sim.api_secret}), sim)


async def bounded(awaitable: Awaitable[T], timeout_s: float = CALL_TIMEOUT_S) -> T:
    return await asyncio.wait_for(awaitable, timeout_s)


def run_with(sim: RunningSim, body: Callable[[Any], Awaitable[T]], timeout_s: float = 120) -> T:
    """Run ``body(exchange)`` on a fresh event loop; the client is always closed."""

    async def main() -> T:
        exchange = client(sim)
        try:
            return await asyncio.wait_for(body(exchange), timeout_s)
        finally:
            await exchange.close()

    return asyncio.run(main())


async def until_resolved(
    watch: Awaitable[T], poke: Callable[[], Awaitable[Any]], *, attempts: int = 10
) -> T:
    """Await a ccxt.pro ``watch_*`` while ``poke`` makes the event it waits for, once a second
    until the watch resolves (the subscription may not be live for the first poke)."""
    task = asyncio.ensure_future(watch)
    try:
        for _ in range(attempts):
            await asyncio.sleep(0.3)
            if not task.done():
                await bounded(poke())
            done, _ = await asyncio.wait({task}, timeout=1.0)
            if done:
                return task.result()
        raise AssertionError(f"watch did not resolve after {attempts} pokes")
    finally:
        if not task.done():
            task.cancel()
