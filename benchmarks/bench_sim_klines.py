#!/usr/bin/env python3
"""Benchmark a 1,000-candle ``GET /v5/market/kline`` and the market model's share of CPU.

Usage: python benchmarks/bench_sim_klines.py [--runs N] [--requests R] [--seconds S]

1. Klines: a real ``mmbot sim`` subprocess (default flags, so a day of warm-up candles); R
   sequential requests for ``interval=1&limit=1000`` and for ``interval=5&limit=1000`` (the
   5-minute candles aggregated from 1-minute ones). The server time is the endpoint's own cost,
   measured in-process over the same tape (``perf_counter`` around the route function and the
   serialisation of the reply body), and the
   round trip client-side; side by side, the named peer: a bare aiohttp server answering the
   same request with the same 1,000-candle body pre-serialised. Medians of N runs.
2. Market model: CPU seconds per second of market time spent by the default market step
   (3 symbols, ``tick_interval_ms`` 100), in-process, against the whole ``mmbot sim`` process's
   CPU over S seconds of wall time (psutil) while the bundled bot trades against it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

from bot.sim import harness
from bot.sim.clock import FakeClock, SystemClock
from bot.sim.config import SimConfig
from bot.sim.endpoints_market import MarketData, register
from bot.sim.engine import Exchange
from bot.sim.faults import FaultState
from bot.sim.rest import RestApi
from bot.sim.wire import envelope

BIN = Path(sys.executable).parent
PEER = """
import sys
from aiohttp import web
BODY = open(sys.argv[2], "rb").read()
async def kline(request):
    return web.Response(body=BODY, content_type="application/json")
app = web.Application()
app.router.add_get("/v5/market/kline", kline)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""
QUERY = "/v5/market/kline?category=linear&symbol=BTCUSDT&interval={interval}&limit=1000"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: server exited")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"{url}: no answer in 20 s")


def start_sim(tmp: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    sim = harness.start_sim(tmp, "--log-level", "warning", "--no-rate-limits", log=False)
    return sim.proc, sim.urls


def round_trips(base: str, interval: str, count: int) -> float:
    """Median client-side round trip in ms."""
    session = requests.Session()
    times = []
    for _ in range(count):
        start = time.perf_counter()
        reply = session.get(base + QUERY.format(interval=interval), timeout=5)
        times.append((time.perf_counter() - start) * 1000)
        assert reply.status_code == 200
    return statistics.median(times)


def server_time_ms(interval: str, count: int) -> tuple[float, int]:
    """The route function's own median cost in ms, and the candles it returned."""
    config = SimConfig(rate_limits=False)
    exchange = Exchange(config, SystemClock())
    api = RestApi(exchange, None, FaultState(0, {}), rate_limits=False, ghost_hold_s=0)  # type: ignore[arg-type]
    from bot.sim import endpoints

    endpoints.register(api, exchange, {})
    register(api, MarketData(exchange, config.kline_history_minutes, 0))
    fn, _ = api.routes[("GET", "/v5/market/kline")]
    params = {"category": "linear", "symbol": "BTCUSDT", "interval": interval, "limit": "1000"}
    times, rows = [], 0
    for _ in range(count):
        start = time.perf_counter()
        result = fn(params)
        envelope(result, 0)  # the reply body, serialised as the server sends it
        times.append((time.perf_counter() - start) * 1000)
        rows = len(result["list"])
    return statistics.median(times), rows


def market_cpu_per_s(seconds_of_market: float) -> float:
    """CPU seconds the default market step costs per second of market time (3 symbols)."""
    clock = FakeClock()
    exchange = Exchange(SimConfig(), clock)
    steps = int(seconds_of_market / 0.1)
    start = time.process_time()
    for _ in range(steps):
        clock.advance(100)
        for market in exchange.markets.values():
            exchange.step_market(market, 0.1)
    return (time.process_time() - start) / seconds_of_market


def sim_cpu_with_bot(tmp: Path, seconds: float) -> float:
    """CPU seconds per second of the whole ``mmbot sim`` process while the bundled bot trades."""
    sim, urls = start_sim(tmp)
    env = {
        **os.environ,
        "MMBOT_REST_URL": urls["rest_url"],
        "MMBOT_WS_PUBLIC_URL": urls["ws_public_url"],
        "MMBOT_WS_PRIVATE_URL": urls["ws_private_url"],
        "MMBOT_CREDENTIALS_DIR": str(tmp / "creds"),
        "MMBOT_METRICS_PORT": "0",
    }
    bot = subprocess.Popen(
        [str(BIN / "mmbot"), "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(5)  # warm-up: the bot connected and quoting
        proc = psutil.Process(sim.pid)
        before = proc.cpu_times()
        time.sleep(seconds)
        after = proc.cpu_times()
        return (after.user + after.system - before.user - before.system) / seconds
    finally:
        for p in (bot, sim):
            p.terminate()
            p.wait(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sim, urls = start_sim(tmp)
        body = requests.get(urls["rest_url"] + QUERY.format(interval="1"), timeout=5).content
        (tmp / "body.json").write_bytes(body)
        port = free_port()
        peer = subprocess.Popen([sys.executable, "-c", PEER, str(port), str(tmp / "body.json")])
        peer_url = f"http://127.0.0.1:{port}"
        try:
            wait_http(peer_url + QUERY.format(interval="1"), peer)
            rows: dict[str, list[float]] = {}
            for run in range(args.runs):
                for interval in ("1", "5"):
                    server, count = server_time_ms(interval, args.requests)
                    rt = round_trips(urls["rest_url"], interval, args.requests)
                    rows.setdefault(f"server {interval}", []).append(server)
                    rows.setdefault(f"sim rt {interval}", []).append(rt)
                    print(
                        f"run {run + 1} interval {interval}: server {server:.2f} ms "
                        f"({count} candles), round trip {rt:.2f} ms"
                    )
                peer_rt = round_trips(peer_url, "1", args.requests)
                rows.setdefault("peer rt", []).append(peer_rt)
                print(f"run {run + 1}: bare aiohttp peer round trip {peer_rt:.2f} ms")
        finally:
            for proc in (sim, peer):
                proc.terminate()
                proc.wait(10)
        med = {k: statistics.median(v) for k, v in rows.items()}
        print(
            f"\n1,000-candle kline, median of {args.runs}: server time "
            f"{med['server 1']:.2f} ms (1m), {med['server 5']:.2f} ms (5m from 1m); round trip "
            f"{med['sim rt 1']:.2f} ms vs bare aiohttp peer {med['peer rt']:.2f} ms "
            f"(ratio {med['sim rt 1'] / med['peer rt']:.2f})"
        )
        worst = max(med["server 1"], med["server 5"])
        print(f"target server time <= 5 ms: {'PASS' if worst <= 5 else 'FAIL'}")
        model = statistics.median(market_cpu_per_s(60.0) for _ in range(args.runs))
        whole = sim_cpu_with_bot(tmp / "cpu", args.seconds)
        print(
            f"\nmarket model: {model * 100:.2f} % of one core at the default tick "
            f"(in-process); the whole simulator with the bundled bot: {whole * 100:.1f} % "
            f"-> model share {model / whole * 100:.0f} % of the simulator's CPU"
        )
        print(f"target model share <= 10 %: {'PASS' if model <= 0.10 * whole else 'FAIL'}")


if __name__ == "__main__":
    main()
