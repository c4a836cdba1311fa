"""REST latency against the simulator: pooled session vs a fresh connection per request,
over plain HTTP and over TLS (a trustme CA), side by side.

The simulator runs in a separate process (its aiohttp app from :mod:`bot.sim.server`, served
with or without TLS, rate limits off). The client is the bot's own :class:`BybitRest`, once
with its pool (keep-alive) and once with ``force_close`` (a TCP, and for TLS a handshake, per
request). Each round sends ``--requests`` signed ``GET /v5/position/list`` per variant,
interleaved; prints the median over rounds of each variant's median and p99, and the ratio.
The original project claimed 150 ms -> 50 ms with pooling over the internet; on loopback the
handshake is all there is to save.

    .venv/bin/python benchmarks/bench_rest_pool.py [--requests 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trustme

from bot.common.secrets import Credentials, Secret
from bot.config import HttpConfig
from bot.metrics import BotMetrics
from bot.venues.bybit.http import BybitRest

KEY, SECRET = "benchkey123", "bench-secret-value-xyz"


async def _serve(ready: Path, cert: str | None, key: str | None) -> None:
    from aiohttp import web

    from bot.sim.config import SimConfig
    from bot.sim.server import build_app

    app = build_app(SimConfig(rate_limits=False, ws_latency_ms=0), {KEY: SECRET})
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    context = None
    if cert and key:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await asyncio.to_thread(ready.write_text, json.dumps({"port": port}))
    await asyncio.Event().wait()


def start_server(tmp: Path, tls: bool, ca: trustme.CA) -> tuple[subprocess.Popen[bytes], str]:
    ready = tmp / f"ready-{tls}.json"
    args = [sys.executable, __file__, "--serve", str(ready)]
    if tls:
        cert = ca.issue_cert("127.0.0.1", "localhost")
        cert.private_key_pem.write_to_path(str(tmp / "key.pem"))
        cert.cert_chain_pems[0].write_to_path(str(tmp / "cert.pem"))
        args += ["--cert", str(tmp / "cert.pem"), "--key", str(tmp / "key.pem")]
    proc = subprocess.Popen(args)
    deadline = time.monotonic() + 30
    while not ready.exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit("benchmark server did not start")
        time.sleep(0.05)
    port = json.loads(ready.read_text())["port"]
    return proc, f"{'https' if tls else 'http'}://127.0.0.1:{port}"


async def measure(url: str, pooled: bool, context: ssl.SSLContext | None, n: int) -> list[float]:
    creds = Credentials(Secret(KEY), Secret(SECRET), source="bench")
    async with BybitRest(
        url,
        creds,
        HttpConfig(pace_requests=False),
        BotMetrics(),
        ssl_context=context,
        pooled=pooled,
    ) as rest:
        await rest.get("/v5/market/time", {}, auth=False)  # warm up (DNS, first connect)
        samples = []
        for _ in range(n):
            started = time.perf_counter()
            await rest.get("/v5/position/list", {"category": "linear", "symbol": "BTCUSDT"})
            samples.append(time.perf_counter() - started)
        return samples


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--cert", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(Path(args.serve), args.cert, args.key))
        return
    ca = trustme.CA()
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    with tempfile.TemporaryDirectory() as tmp:
        servers = [start_server(Path(tmp), tls, ca) for tls in (False, True)]
        try:
            results: dict[str, list[tuple[float, float]]] = {}
            for _ in range(args.rounds):
                for (_, url), tls in zip(servers, (False, True), strict=True):
                    for pooled in (True, False):
                        name = f"{'TLS ' if tls else 'HTTP'} {'pooled' if pooled else 'fresh '}"
                        s = asyncio.run(
                            measure(url, pooled, client_tls if tls else None, args.requests)
                        )
                        results.setdefault(name, []).append((statistics.median(s), p99(s)))
        finally:
            for proc, _ in servers:
                proc.kill()
                proc.wait()
    print(
        f"REST GET /v5/position/list (signed) against the simulator, loopback, "
        f"{args.requests} requests x {args.rounds} rounds (medians over rounds):"
    )
    med = {
        k: (statistics.median(a for a, _ in v), statistics.median(b for _, b in v))
        for k, v in results.items()
    }
    for name, (m, p) in med.items():
        print(f"  {name}   median {m * 1000:7.3f} ms   p99 {p * 1000:7.3f} ms")
    for proto in ("HTTP", "TLS "):
        fresh, pooled = med[f"{proto} fresh "][0], med[f"{proto} pooled"][0]
        print(f"  {proto.strip():4} fresh/pooled median ratio: {fresh / pooled:5.2f}x")


if __name__ == "__main__":
    main()
