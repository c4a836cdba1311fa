#!/usr/bin/env python3
"""Benchmark the simulator's WebSocket fan-out: messages/s delivered to 10 subscribers.

Usage: python benchmarks/bench_sim_ws.py [--runs N] [--seconds S] [--subscribers K] [--procs P]
                                        [--cadence-scale C]

A real ``mmbot sim`` subprocess with its push cadence scaled down as far as it goes
(``--cadence-scale 0.01``: level 1 every 0.1 ms, depth 50 every 0.2 ms) and level-1 re-pushed
even when unchanged (``--level1-repush-s 0.0001``), so each subscriber is offered about 20,000
frames/s (two level-1 streams at 10,000/s, plus depth-50 deltas, trades and tickers as the
market moves): 10 subscribers about 200,000/s, so below that the figure is bounded by the
server, not by market activity (a figure near 200,000 is the offer itself). (At ``0.05`` the offer
was about 4,200 frames/s per subscriber: 42,000/s for 10, below the 50,000 target whatever the
server did.) K subscribers (split across P client processes, aiohttp) each subscribe to
``orderbook.1`` and ``orderbook.50`` of BTCUSDT and ETHUSDT plus ``publicTrade`` and
``tickers``; the figure is frames received per second summed over all subscribers, after a
warm-up. Side by side in the same run, the named peer: a bare aiohttp WebSocket server
broadcasting one pre-serialised depth-50 delta frame (the size is printed; the simulator's
frames here are mostly level-1 snapshots, ~180 B) to every subscriber in a tight loop, one
``send_frame`` per frame and subscriber (the framework's own fan-out path). The simulator
writes all frames due on a socket in one write, so it can beat that peer. Medians of N runs and
the ratio sim/peer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bot.sim import harness

BIN = Path(sys.executable).parent
TOPICS = [
    "orderbook.1.BTCUSDT",
    "orderbook.1.ETHUSDT",
    "orderbook.50.BTCUSDT",
    "orderbook.50.ETHUSDT",
    "publicTrade.BTCUSDT",
    "publicTrade.ETHUSDT",
    "tickers.BTCUSDT",
    "tickers.ETHUSDT",
]
PEER = """
import asyncio, sys
from aiohttp import web, WSMsgType
FRAME = open(sys.argv[2], "rb").read()
clients = set()
async def ws_handler(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    clients.add(ws)
    try:
        async for _ in ws:
            pass
    finally:
        clients.discard(ws)
    return ws
async def pump(app):
    async def loop():
        while True:
            for ws in list(clients):
                try:
                    await ws.send_frame(FRAME, WSMsgType.TEXT)
                except Exception:
                    clients.discard(ws)
            await asyncio.sleep(0)
    app["pump"] = asyncio.create_task(loop())
app = web.Application()
app.router.add_get("/v5/public/linear", ws_handler)
app.on_startup.append(pump)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sim(tmp: Path, cadence_scale: float) -> tuple[subprocess.Popen[bytes], str]:
    flags = ["--cadence-scale", str(cadence_scale), "--level1-repush-s", "0.0001"]
    flags += ["--ws-latency-ms", "0"]
    flags += ["--tick-interval-ms", "20", "--taker-rate", "20", "--log-level", "warning"]
    sim = harness.start_sim(tmp, *flags, credentials_dir=tmp / "c", log=False)
    return sim.proc, sim.urls["ws_public_url"]


def start_peer(tmp: Path, frame: bytes) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    (tmp / "frame.json").write_bytes(frame)
    proc = subprocess.Popen([sys.executable, "-c", PEER, str(port), str(tmp / "frame.json")])
    url = f"ws://127.0.0.1:{port}/v5/public/linear"

    async def probe() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(url):
            pass

    deadline = time.monotonic() + 20
    while True:
        try:
            asyncio.run(probe())
            return proc, url
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("peer did not start") from None
            time.sleep(0.1)


async def subscribers(url: str, count: int, warmup_s: float, seconds: float) -> int:
    """Frames received by ``count`` subscribers during ``seconds`` after ``warmup_s``."""
    received = 0
    counting = False

    async def one(session: aiohttp.ClientSession) -> None:
        nonlocal received
        async with session.ws_connect(url, max_msg_size=0) as ws:
            await ws.send_str(json.dumps({"op": "subscribe", "args": TOPICS}))
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                if counting:
                    received += 1

    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(one(session)) for _ in range(count)]
        await asyncio.sleep(warmup_s)
        counting = True
        await asyncio.sleep(seconds)
        counting = False
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return received


def _worker(args: tuple[str, int, float, float]) -> int:
    return asyncio.run(subscribers(*args))


def measure(url: str, total: int, procs: int, seconds: float) -> float:
    shares = [total // procs + (1 if i < total % procs else 0) for i in range(procs)]
    with multiprocessing.get_context("spawn").Pool(procs) as pool:
        counts = pool.map(_worker, [(url, n, 1.0, seconds) for n in shares])
    return sum(counts) / seconds


async def sample_frame(url: str) -> bytes:
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}))
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT and '"type":"delta"' in msg.data:
                return str(msg.data).encode()
    raise SystemExit("no delta frame")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument(
        "--cadence-scale", type=float, default=0.01, help="the simulator's (>= 0.01; see above)"
    )
    args = parser.parse_args()
    sim_rates: list[float] = []
    peer_rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        sim, url = start_sim(Path(tmp), args.cadence_scale)
        frame = asyncio.run(sample_frame(url))
        peer, peer_url = start_peer(Path(tmp), frame)
        try:
            for run in range(args.runs):
                sim_rates.append(measure(url, args.subscribers, args.procs, args.seconds))
                peer_rates.append(measure(peer_url, args.subscribers, args.procs, args.seconds))
                print(
                    f"run {run + 1}: sim {sim_rates[-1]:,.0f} msg/s, "
                    f"peer {peer_rates[-1]:,.0f} msg/s"
                    f" ({args.subscribers} subscribers, {len(frame)} B peer frame)"
                )
        finally:
            for proc in (sim, peer):
                proc.terminate()
                proc.wait(10)
    sim_median, peer_median = statistics.median(sim_rates), statistics.median(peer_rates)
    print(
        f"\nfan-out to {args.subscribers} subscribers, median of {args.runs}: "
        f"sim {sim_median:,.0f} msg/s, bare aiohttp peer {peer_median:,.0f} msg/s, "
        f"ratio sim/peer {sim_median / peer_median:.2f}"
    )
    ratio = sim_median / peer_median
    print(f"target >= 50,000 msg/s: {'PASS' if sim_median >= 50_000 else 'FAIL'}")
    print(f"target ratio sim/peer >= 0.25: {'PASS' if ratio >= 0.25 else 'FAIL'}")


if __name__ == "__main__":
    main()
