"""Tick-to-order latency of the real bot on loopback, timed on the exchange side.

``mmbot sim`` runs as the exchange and ``mmbot run`` as the bot, both real processes. Between
them sits a thin timestamping relay in this process (the exchange's edge): it forwards the
public and private WebSockets and REST unchanged, keeps its own copy of the book, and notes
``perf_counter_ns`` just before it hands the bot a frame that moves the touch, and again
when an order request (create / amend / cancel) reaches it. Latency = request arrival minus
the latest touch move before it, first reaction per move. The bot runs with
``refresh_tolerance_ticks: 0`` so every touch move calls for an order, and with Bybit's
per-endpoint pacing off (the simulator's rate limits too): 10 amends/s would otherwise queue
reactions behind the budget. Target: p99 < 5 ms.
Peers, side by side through the same relay: a *floor* (a 40-line reactor process on the same
libraries, websockets + aiohttp, that posts as soon as it sees the touch move: the cost of
the transport, the relay and Python on this machine), and the same bot with
``quote_on_book: false``, which quotes on a 250 ms timer (what a polling loop does).

    .venv/bin/python benchmarks/bench_tick_to_order.py [--seconds 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import aiohttp
import orjson
from aiohttp import web

from bot.book import BookAnomaly, OrderBook
from bot.sim import harness
from bot.venues.bybit.schemas import book_update

BIN = Path(sys.executable).parent
MMBOT = "mmbot (event-driven)"
FLOOR = "floor: bare reactor"
POLL = "mmbot on a 250 ms timer"
ORDER_PATHS = {"/v5/order/create", "/v5/order/amend", "/v5/order/cancel"}
HEADERS_OUT = (
    "Content-Type",
    "X-Bapi-Limit",
    "X-Bapi-Limit-Status",
    "X-Bapi-Limit-Reset-Timestamp",
)


class Relay:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.moves_ns: list[int] = []
        self.orders_ns: list[int] = []
        self.session: aiohttp.ClientSession | None = None
        self.book = OrderBook("BTCUSDT", lambda p: int(Decimal(p) * 10_000))
        self.touch: tuple[int | None, int | None] = (None, None)

    async def rest(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter_ns()
        if request.method == "POST" and request.path in ORDER_PATHS:
            self.orders_ns.append(arrived)
        assert self.session is not None
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower().startswith("x-bapi") or k.lower() == "content-type"
        }
        url = f"{self.upstream}{request.raw_path}"
        async with self.session.request(
            request.method, url, data=body or None, headers=headers
        ) as up:
            payload = await up.read()
            out = {k: up.headers[k] for k in HEADERS_OUT if k in up.headers}
            return web.Response(body=payload, status=up.status, headers=out)

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        down = web.WebSocketResponse(autoping=True)
        await down.prepare(request)
        assert self.session is not None
        public = request.path.startswith("/v5/public")
        ws_up = self.upstream.replace("http", "ws", 1)
        async with self.session.ws_connect(f"{ws_up}{request.path}") as up:

            async def to_exchange() -> None:
                async for msg in down:
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        await up.send_str(msg.data)

            forward = asyncio.ensure_future(to_exchange())
            try:
                async for msg in up:
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    if public and '"orderbook.' in msg.data:
                        self._observe(msg.data)
                    await down.send_str(msg.data)
            finally:
                forward.cancel()
        await down.close()
        return down

    def _observe(self, text: str) -> None:
        try:
            self.book.apply(book_update(orjson.loads(text)), 0.0)
        except BookAnomaly:
            return
        touch = (self.book.best_bid, self.book.best_ask)
        if touch != self.touch:
            self.touch = touch
            self.moves_ns.append(time.perf_counter_ns())

    def latencies_ms(self) -> tuple[list[float], int]:
        out, i, matched = [], 0, set()
        for t in self.orders_ns:
            while i + 1 < len(self.moves_ns) and self.moves_ns[i + 1] <= t:
                i += 1
            if i < len(self.moves_ns) and self.moves_ns[i] <= t and i not in matched:
                matched.add(i)
                out.append((t - self.moves_ns[i]) / 1e6)
        return out, len(self.moves_ns)


async def relay_run(
    upstream: str, seconds: float, bot_env: dict[str, str], cfg: Path | None, tmp: Path
) -> tuple[list[float], int]:
    relay = Relay(upstream)
    relay.session = aiohttp.ClientSession()
    app = web.Application()
    app.router.add_route("GET", "/v5/public/linear", relay.ws)
    app.router.add_route("GET", "/v5/private", relay.ws)
    app.router.add_route("*", "/v5/{tail:.*}", relay.rest)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    metrics_port = free_port()
    env = dict(
        bot_env,
        MMBOT_METRICS_PORT=str(metrics_port),
        MMBOT_REST_URL=f"http://127.0.0.1:{port}",
        MMBOT_WS_PUBLIC_URL=f"ws://127.0.0.1:{port}/v5/public/linear",
        MMBOT_WS_PRIVATE_URL=f"ws://127.0.0.1:{port}/v5/private",
    )
    bot = await asyncio.to_thread(spawn_bot, env, cfg, tmp)
    internal_p99_ms = float("nan")
    try:
        await asyncio.sleep(seconds)
        if cfg is not None:
            internal_p99_ms = await bot_internal_p99_ms(relay.session, metrics_port)
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.to_thread(bot.wait, 40)
        await relay.session.close()
        await runner.cleanup()
    lat, moves = relay.latencies_ms()
    return lat, moves, internal_p99_ms


async def bot_internal_p99_ms(session: aiohttp.ClientSession, port: int) -> float:
    """p99 upper bound of the bot's own ``mmbot_tick_to_order_seconds`` (frame in -> send)."""
    from prometheus_client.parser import text_string_to_metric_families

    async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    buckets = [
        (float(sample.labels["le"]), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "mmbot_tick_to_order_seconds_bucket"
    ]
    total = max(count for _, count in buckets)
    return next(le for le, count in sorted(buckets) if count >= 0.99 * total) * 1000


def spawn_bot(env: dict[str, str], cfg: Path | None, tmp: Path) -> subprocess.Popen[bytes]:
    argv = (
        [str(BIN / "mmbot"), "run", "--config", str(cfg)]
        if cfg
        else [sys.executable, __file__, "--react"]
    )
    with open(tmp / "bot.log", "ab") as log:
        return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)


async def react() -> None:
    """The floor: on every touch move seen on the public stream, POST an order request."""
    import websockets

    book = OrderBook("BTCUSDT", lambda p: int(Decimal(p) * 10_000))
    touch: tuple[int | None, int | None] = (None, None)
    rest = os.environ["MMBOT_REST_URL"]
    async with (
        aiohttp.ClientSession() as session,
        websockets.connect(os.environ["MMBOT_WS_PUBLIC_URL"]) as ws,
    ):
        await ws.send('{"op":"subscribe","args":["orderbook.50.BTCUSDT"]}')
        pending: set[asyncio.Task[None]] = set()

        async def post() -> None:
            async with session.post(f"{rest}/v5/order/cancel", data=b"{}") as response:
                await response.read()

        async for frame in ws:
            message = orjson.loads(frame)
            if "topic" not in message:
                continue
            try:
                book.apply(book_update(message), 0.0)
            except BookAnomaly:
                continue
            if (book.best_bid, book.best_ask) != touch:
                touch = (book.best_bid, book.best_ask)
                task = asyncio.ensure_future(post())
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.sleep(0)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--react", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.react:
        asyncio.run(react())
        return
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        started = harness.start_sim(tmp, "--no-rate-limits", mmbot=str(BIN / "mmbot"), log=False)
        sim = started.proc
        try:
            upstream = started.rest_url
            env = dict(os.environ, MMBOT_CREDENTIALS_DIR=str(tmp / "creds"), MMBOT_METRICS_PORT="0")
            results: dict[str, list[tuple[float, float, float, int, int, float]]] = {}
            for _ in range(args.runs):
                variants = (
                    (MMBOT, "strategy: {refresh_tolerance_ticks: 0}\n"),
                    (FLOOR, None),
                    (POLL, "strategy: {refresh_tolerance_ticks: 0}\nquote_on_book: false\n"),
                )
                for name, text in variants:
                    cfg = None
                    if text is not None:
                        cfg = tmp / f"bot-{len(text)}.yaml"
                        cfg.write_text(
                            text
                            + "risk: {max_submits_per_s: 500, max_open_orders: 20}\n"
                            + "http: {pace_requests: false}\n"
                        )
                    lat, moves, internal = asyncio.run(
                        relay_run(upstream, args.seconds, env, cfg, tmp)
                    )
                    if len(lat) < 5:
                        raise SystemExit(f"{name}: only {len(lat)} reactions to {moves} moves")
                    q = statistics.quantiles(lat, n=100)
                    results.setdefault(name, []).append(
                        (statistics.median(lat), q[89], q[98], len(lat), moves, internal)
                    )
        finally:
            sim.kill()
            sim.wait()
    print(
        f"tick-to-order on loopback, timed at the exchange edge, {args.seconds:g}s x "
        f"{args.runs} runs (median over runs):"
    )
    med: dict[str, float] = {}
    medians: dict[str, float] = {}
    for name, runs in results.items():
        p50, p90, p99 = (statistics.median(r[i] for r in runs) for i in range(3))
        reactions = sum(r[3] for r in runs)
        moves = sum(r[4] for r in runs)
        med[name] = p99
        inside = statistics.median(r[5] for r in runs)
        extra = f"; inside the bot p99 <= {inside:g} ms" if inside == inside else ""
        print(
            f"  {name:24} p50 {p50:7.3f} ms  p90 {p90:7.3f} ms  p99 {p99:7.3f} ms  "
            f"({reactions} reactions to {moves} touch moves{extra})"
        )
        medians[name] = p50
    ours, floor, poll = med[MMBOT], med[FLOOR], med[POLL]
    print(
        f"  mmbot over the floor: p50 {medians[MMBOT] - medians[FLOOR]:+.2f} ms, "
        f"p99 {ours - floor:+.2f} ms; timer peer / mmbot p99 = {poll / ours:.1f}x; "
        f"target p99 < 5 ms: {'PASS' if ours < 5 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
