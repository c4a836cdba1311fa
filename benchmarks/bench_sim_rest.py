#!/usr/bin/env python3
"""Benchmark the simulator's REST order path: signed create+cancel pairs from one client process.

Usage: python benchmarks/bench_sim_rest.py [--runs N] [--seconds S] [--concurrency C]

1. Throughput: a real ``mmbot sim`` subprocess (rate limits off, market running); one client
   process (aiohttp, keep-alive pool) keeps C requests in flight, each pair a signed
   ``POST /v5/order/create`` (PostOnly, resting) then ``POST /v5/order/cancel`` by orderId.
   Side by side in the same run, the named peer: a bare aiohttp server answering the same POSTs
   with a fixed JSON body (the framework floor on this machine). Requests/s per run, median of
   N runs, and the ratio sim/peer.
2. Latency: open-loop at 500 requests/s (create+cancel alternating, paced by a schedule, not by
   replies) for S seconds: p50 / p99 / max in ms, median over N runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bot.bybit_v5.signing import sign_rest
from bot.sim import harness

BIN = Path(sys.executable).parent
PEER = """
import sys
from aiohttp import web
BODY = (b'{"retCode":0,"retMsg":"OK","result":{"orderId":"x","orderLinkId":""},'
        b'"retExtInfo":{},"time":0}')
async def ok(request):
    await request.read()
    return web.Response(body=BODY, content_type="application/json")
app = web.Application()
app.router.add_post("/v5/order/create", ok)
app.router.add_post("/v5/order/cancel", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sim(tmp: Path) -> tuple[subprocess.Popen[bytes], str, str, str]:
    sim = harness.start_sim(tmp, "--no-rate-limits", "--log-level", "warning", log=False)
    key, secret = sim.credentials()
    return sim.proc, sim.rest_url, key, secret


def start_peer() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", PEER, str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            import urllib.request

            urllib.request.urlopen(f"{url}/", timeout=1)
        except OSError as exc:
            if "404" in str(exc):
                return proc, url
            if time.monotonic() > deadline:
                raise SystemExit("peer did not start") from exc
            time.sleep(0.05)


class Pool:
    """Keep-alive HTTP/1.1 connections over asyncio streams: a load generator in the style of
    wrk, so the client process is not the bottleneck (aiohttp's client costs ~3x more)."""

    def __init__(self, url: str, size: int) -> None:
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.size = size
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def __aenter__(self) -> Pool:
        for _ in range(self.size):
            self.idle.put_nowait(await asyncio.open_connection(self.host, self.port))
        return self

    async def __aexit__(self, *exc: object) -> None:
        while not self.idle.empty():
            _, writer = self.idle.get_nowait()
            writer.close()

    async def post(self, path: str, body: bytes, headers: str) -> bytes:
        reader, writer = await self.idle.get()
        try:
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{headers}"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            return await reader.readexactly(length)
        finally:
            self.idle.put_nowait((reader, writer))


class Client:
    """Signs exactly like pybit (``json.dumps`` body, key+ts+recv+body) and posts."""

    def __init__(self, pool: Pool, key: str, secret: str) -> None:
        self.pool, self.key, self.secret = pool, key, secret
        self.counter = 0

    async def post(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(params)
        ts = str(time.time_ns() // 1_000_000)
        sign = sign_rest(self.secret, ts, self.key, "5000", body)
        headers = (
            f"X-BAPI-API-KEY: {self.key}\r\nX-BAPI-TIMESTAMP: {ts}\r\n"
            f"X-BAPI-RECV-WINDOW: 5000\r\nX-BAPI-SIGN: {sign}\r\n"
            "Content-Type: application/json\r\n"
        )
        data: dict[str, Any] = orjson.loads(await self.pool.post(path, body.encode(), headers))
        if data["retCode"] != 0:
            raise SystemExit(f"{path} failed: {data}")
        return data

    async def pair(self) -> None:
        self.counter += 1
        created = await self.post(
            "/v5/order/create",
            harness.limit_order(
                "60000", orderLinkId=f"b{os.getpid()}-{self.counter}-{time.monotonic_ns()}"
            ),
        )
        await self.post(
            "/v5/order/cancel",
            {"category": "linear", "symbol": "BTCUSDT", "orderId": created["result"]["orderId"]},
        )


async def throughput(url: str, key: str, secret: str, seconds: float, concurrency: int) -> float:
    async with Pool(url, concurrency) as pool:
        client = Client(pool, key, secret)
        for _ in range(20):  # warm up connections
            await client.pair()
        done = 0
        stop = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < stop:
                await client.pair()
                done += 2

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.monotonic() - started)


async def latency(url: str, key: str, secret: str, seconds: float, rate: float) -> list[float]:
    async with Pool(url, 32) as pool:
        client = Client(pool, key, secret)
        for _ in range(20):
            await client.pair()
        samples: list[float] = []
        order_ids: asyncio.Queue[str] = asyncio.Queue()
        tasks: set[asyncio.Task[None]] = set()

        async def one(index: int) -> None:
            started = time.perf_counter()
            if index % 2 == 0 or order_ids.empty():
                client.counter += 1
                data = await client.post(
                    "/v5/order/create",
                    harness.limit_order(
                        "60000", orderLinkId=f"l{client.counter}-{time.monotonic_ns()}"
                    ),
                )
                order_ids.put_nowait(data["result"]["orderId"])
            else:
                await client.post(
                    "/v5/order/cancel",
                    {"category": "linear", "symbol": "BTCUSDT", "orderId": order_ids.get_nowait()},
                )
            samples.append((time.perf_counter() - started) * 1000)

        start = time.perf_counter()
        total = int(seconds * rate)
        for index in range(total):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(index))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*list(tasks))
        return samples


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"sim": [], "peer": []}
    p50s: dict[str, list[float]] = {"sim": [], "peer": []}
    p99s: dict[str, list[float]] = {"sim": [], "peer": []}
    with tempfile.TemporaryDirectory() as tmp:
        sim, url, key, secret = start_sim(Path(tmp))
        peer, peer_url = start_peer()
        targets = {"sim": url, "peer": peer_url}
        try:
            for run in range(args.runs):
                for name, target in targets.items():
                    rate = asyncio.run(
                        throughput(target, key, secret, args.seconds, args.concurrency)
                    )
                    lat = asyncio.run(latency(target, key, secret, args.seconds, 500.0))
                    rates[name].append(rate)
                    p50s[name].append(percentile(lat, 0.5))
                    p99s[name].append(percentile(lat, 0.99))
                print(
                    f"run {run + 1}: "
                    + "; ".join(
                        f"{n} {rates[n][-1]:,.0f} req/s, at 500 req/s p50 {p50s[n][-1]:.2f} ms "
                        f"p99 {p99s[n][-1]:.2f} ms"
                        for n in targets
                    )
                )
        finally:
            for proc in (sim, peer):
                proc.terminate()
                proc.wait(10)
    med = {
        n: (statistics.median(rates[n]), statistics.median(p50s[n]), statistics.median(p99s[n]))
        for n in targets
    }
    print(f"\nmedians of {args.runs} runs (sim = mmbot sim, peer = bare aiohttp fixed reply):")
    for name in targets:
        rate, p50, p99 = med[name]
        print(
            f"  {name:4}: {rate:,.0f} req/s signed create+cancel; at 500 req/s p50 {p50:.2f} ms, "
            f"p99 {p99:.2f} ms"
        )
    print(
        f"  ratio sim/peer: throughput {med['sim'][0] / med['peer'][0]:.2f}, "
        f"p99 {med['sim'][2] / med['peer'][2]:.2f}"
    )
    print(
        f"targets: >= 3,000 req/s {'PASS' if med['sim'][0] >= 3000 else 'FAIL'}; "
        f"p99 < 5 ms {'PASS' if med['sim'][2] < 5 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
