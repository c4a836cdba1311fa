"""The simulator's own control surface: ``/sim/stats``, ``/sim/faults`` and ``/sim/trade``.

``GET /sim/stats`` returns JSON counters (orders, fills, ws clients, faults injected per name,
internal errors). ``GET /sim/faults`` shows the active faults; ``POST /sim/faults`` replaces
them with a JSON object of docs/cli.md §8 names (``{}`` clears). ``POST /sim/trade`` makes the
simulated market send a taker order now (``{"category","symbol","side","qty"}``), which tests
and demos use to fill resting maker orders on demand. POSTs are accepted from loopback only.
"""

from __future__ import annotations

import ipaddress
import time
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from bot.sim.faults import FAULTS, FaultSpecError, parse_mapping
from bot.sim.instruments import Category, parse_decimal

if TYPE_CHECKING:
    from bot.sim.server import Simulator


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


async def _body(request: web.Request) -> Any:
    try:
        return orjson.loads(await request.read() or b"{}")
    except orjson.JSONDecodeError:
        raise FaultSpecError("body is not valid JSON") from None


def stats(sim: Simulator) -> dict[str, Any]:
    hub = sim.hub
    ex = sim.exchange.stats
    public = sum(1 for c in hub.conns if c.channel in ("linear", "spot"))
    trade = sum(1 for c in hub.conns if c.channel == "trade")
    return {
        "uptime_s": round(time.monotonic() - sim.started, 3),
        "open_orders": sim.exchange.open_count,
        "orders_created": ex["orders_created"],
        "orders_cancelled": ex["orders_cancelled"],
        "orders_filled": ex["orders_filled"],
        "executions": ex["executions"],
        "cancel_fill_races": ex["cancel_fill_races"],
        "ws_clients": len(hub.conns),
        "ws_public_clients": public,
        "ws_private_clients": len(hub.conns) - public - trade,
        "ws_trade_clients": trade,
        "ws_connections_total": hub.stats["ws_connections_total"],
        "http_requests": sim.rest.stats["http_requests"],
        "http_errors": {k: v for k, v in sim.rest.stats.items() if k.startswith("ret_")},
        "faults_active": sim.faults.describe(),
        "faults_injected": {
            name: sim.faults.injected[name]
            for name, (kind, _) in FAULTS.items()
            if kind not in ("duration", "duration_ms")
        },
        "internal_errors": sim.internal_errors + hub.stats["internal_errors"],
        "unknown_routes": dict(sim.rest.unknown_routes),
        "unknown_topics": dict(hub.unknown_topics),
        "tasks": len(sim.tasks),
    }


def register(app: web.Application, sim: Simulator) -> None:
    async def get_stats(request: web.Request) -> web.Response:
        return _json(stats(sim))

    async def get_faults(request: web.Request) -> web.Response:
        return _json(
            {
                "active": sim.faults.describe(),
                "known": {name: help_ for name, (_, help_) in FAULTS.items()},
            }
        )

    async def post_faults(request: web.Request) -> web.Response:
        if not _loopback(request):
            return _json({"error": "fault control is loopback-only"}, 403)
        try:
            active = parse_mapping(await _body(request))
        except FaultSpecError as exc:
            return _json({"error": str(exc)}, 400)
        sim.faults.set(active)
        return _json({"active": sim.faults.describe()})

    async def post_trade(request: web.Request) -> web.Response:
        if not _loopback(request):
            return _json({"error": "trade injection is loopback-only"}, 403)
        try:
            body = await _body(request)
        except FaultSpecError as exc:
            return _json({"error": str(exc)}, 400)
        if not isinstance(body, dict):
            return _json({"error": "body must be a JSON object"}, 400)
        try:
            key = (Category(str(body.get("category", "linear"))), str(body.get("symbol")))
        except ValueError:
            return _json({"error": "unknown category"}, 400)
        market = sim.exchange.markets.get(key)
        qty = parse_decimal(body.get("qty"))
        side = body.get("side")
        if market is None or qty is None or qty <= 0 or side not in ("Buy", "Sell"):
            return _json({"error": "need category, symbol, side Buy|Sell and qty > 0"}, 400)
        lots = max(1, int(qty / market.inst.qty_step))
        filled = sim.exchange.taker_trade(
            market, is_buy=side == "Buy", lots=lots, now=sim.clock.now_ms()
        )
        sim.exchange.flush()
        return _json({"filledQty": market.inst.qty_str(filled)})

    app.router.add_get("/sim/stats", get_stats)
    app.router.add_get("/sim/faults", get_faults)
    app.router.add_post("/sim/faults", post_faults)
    app.router.add_post("/sim/trade", post_trade)
