"""The bot's Prometheus metrics and the HTTP endpoint serving them with ``/healthz``.

Names: the seed's connector metrics unchanged (``ws_reconnect_attempts_total``,
``ws_reconnect_delay_seconds``, ``ws_max_reconnect_reached_total``,
``http_pool_connections_limit``), and ``mmbot_*`` for trading. All live in one
:class:`BotMetrics` on its own registry (not the global one), so tests build as many as they
like. The server is an aiohttp app on the bot's event loop: ``/metrics`` and ``/healthz``
(200 while both streams are connected and the bot is quoting, else 503 with the reason).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import tracemalloc
from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

logger = logging.getLogger(__name__)

_FINE_BUCKETS_S = (
    0.0001,
    0.00025,
    0.0005,
    0.00075,
    0.001,
    0.0015,
    0.002,
    0.003,
    0.005,
    0.01,
    0.025,
    0.1,
)
_LATENCY_BUCKETS_S = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class BotMetrics:
    def __init__(self, exchange: str = "bybit") -> None:
        self.exchange = exchange
        r = self.registry = CollectorRegistry(auto_describe=True)
        ew = ["exchange", "ws_type"]
        # --- the seed's names -----------------------------------------------------------
        self.ws_reconnect_attempts = Counter(
            "ws_reconnect_attempts", "WebSocket reconnect attempts", ew, registry=r
        )
        self.ws_reconnect_delay = Gauge(
            "ws_reconnect_delay_seconds", "Delay before the last reconnect attempt", ew, registry=r
        )
        self.ws_max_reconnect_reached = Counter(
            "ws_max_reconnect_reached", "Reconnects given up after max attempts", ew, registry=r
        )
        self.http_pool_limit = Gauge(
            "http_pool_connections_limit", "HTTP connection pool size", ["exchange"], registry=r
        )
        # --- connections ----------------------------------------------------------------
        self.ws_connected = Gauge(
            "mmbot_ws_connected", "1 while connected", ["ws_type"], registry=r
        )
        self.ws_drops = Counter(
            "mmbot_ws_drops", "Connections lost", ["ws_type", "reason"], registry=r
        )
        self.ws_messages = Counter("mmbot_ws_messages", "Frames received", ["ws_type"], registry=r)
        self.rest_latency = Histogram(
            "mmbot_rest_latency_seconds",
            "REST round trip",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS_S,
            registry=r,
        )
        self.rest_errors = Counter(
            "mmbot_rest_errors", "REST failures", ["endpoint", "code"], registry=r
        )
        # --- book and quoting -----------------------------------------------------------
        self.book_staleness = Gauge(
            "mmbot_book_staleness_seconds", "Age of the last book update", registry=r
        )
        self.book_resyncs = Counter(
            "mmbot_book_resyncs", "Book resynchronisations", ["reason"], registry=r
        )
        self.quoting = Gauge("mmbot_quoting", "1 while quotes may be placed", registry=r)
        self.tick_to_order = Histogram(
            "mmbot_tick_to_order_seconds",
            "Book message received to order request sent",
            buckets=_FINE_BUCKETS_S,
            registry=r,
        )
        # --- orders, fills, risk --------------------------------------------------------
        self.orders = Counter(
            "mmbot_orders", "Order requests by outcome", ["action", "result"], registry=r
        )
        self.open_orders = Gauge("mmbot_open_orders", "Orders live or in doubt", registry=r)
        self.unknown_orders = Gauge("mmbot_unknown_orders", "Orders in unknown state", registry=r)
        self.reconciliations = Counter(
            "mmbot_reconciliations", "Unknown orders resolved", ["outcome"], registry=r
        )
        self.fills = Counter("mmbot_fills", "Executions", ["side", "liquidity"], registry=r)
        self.filled_qty = Counter("mmbot_filled_qty", "Base qty filled", ["side"], registry=r)
        self.rebates = Counter(
            "mmbot_rebates_earned", "Maker rebates earned, quote coin", registry=r
        )
        self.fees = Counter("mmbot_fees_paid", "Fees paid, quote coin", registry=r)
        self.position = Gauge("mmbot_position", "Position, base coin (signed)", registry=r)
        self.pnl = Gauge("mmbot_pnl_quote", "Marked-to-mid PnL incl. fees, quote coin", registry=r)
        self.risk_rejections = Counter(
            "mmbot_risk_rejections", "Actions refused by risk", ["reason"], registry=r
        )
        self.leak_bytes = Gauge(
            "mmbot_injected_leak_bytes", "Memory leaked on purpose (--inject-leak)", registry=r
        )

    def for_ws(self, ws_type: str) -> tuple[Counter, Gauge, Counter]:
        """The seed's three reconnect metrics bound to this exchange and ``ws_type``."""
        labels = {"exchange": self.exchange, "ws_type": ws_type}
        return (
            self.ws_reconnect_attempts.labels(**labels),
            self.ws_reconnect_delay.labels(**labels),
            self.ws_max_reconnect_reached.labels(**labels),
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsServer:
    """``/metrics`` and ``/healthz`` on ``host:port`` (port 0 = any free port)."""

    def __init__(
        self, metrics: BotMetrics, health: Callable[[], tuple[bool, str]], host: str, port: int
    ) -> None:
        self._metrics = metrics
        self._health = health
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _serve_metrics(self, _request: web.Request) -> web.Response:
        response = web.Response(body=self._metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def _serve_health(self, _request: web.Request) -> web.Response:
        ok, reason = self._health()
        return web.json_response({"ok": ok, "reason": reason}, status=200 if ok else 503)

    async def _serve_tracemalloc(self, request: web.Request) -> web.Response:
        """A tracemalloc snapshot's top allocation sites (docs/live.md §5); loopback only."""
        if not _is_loopback(request.remote):
            return web.json_response({"error": "loopback only"}, status=403)
        if not tracemalloc.is_tracing():
            return web.json_response(
                {"error": "tracemalloc is off (mmbot run --tracemalloc or MMBOT_TRACEMALLOC=1)"},
                status=404,
            )
        try:
            limit = max(1, min(int(request.query.get("limit", "500")), 5000))
        except ValueError:
            return web.json_response({"error": "limit: expected an integer"}, status=400)
        return web.json_response(await asyncio.to_thread(tracemalloc_top, limit))

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/metrics", self._serve_metrics)
        app.router.add_get("/healthz", self._serve_health)
        app.router.add_get("/debug/tracemalloc", self._serve_tracemalloc)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        port = sockets[0].getsockname()[1] if sockets else self._port
        self.url = f"http://{self._host}:{port}"
        logger.info("metrics listening on %s/metrics", self.url)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def tracemalloc_top(limit: int = 500) -> dict[str, Any]:
    """The ``limit`` allocation sites holding the most memory now, by file and line.

    ``{"traced_bytes", "peak_bytes", "stats": [{"file", "line", "size", "count"}, ...]}``;
    tracemalloc's own and the import machinery's allocations are left out.
    """
    snapshot = tracemalloc.take_snapshot().filter_traces(
        (
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
            tracemalloc.Filter(False, "<unknown>"),
        )
    )
    traced, peak = tracemalloc.get_traced_memory()
    stats = []
    for stat in snapshot.statistics("lineno")[:limit]:
        frame = stat.traceback[0]
        stats.append(
            {"file": frame.filename, "line": frame.lineno, "size": stat.size, "count": stat.count}
        )
    return {"traced_bytes": traced, "peak_bytes": peak, "stats": stats}
