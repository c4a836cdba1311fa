"""The REST side: one dispatcher for ``/v5/...`` (faults, auth, rate limits, envelope, headers).

Each request: injected latency, 5xx / 10016 faults, params from the raw query string or raw
JSON body, signature check on those raw bytes (private routes), per-endpoint rate limit (or the
10006 fault), then the endpoint function from :mod:`bot.sim.endpoints`. Whatever happens the
client gets the Bybit envelope with rate-limit headers, never an HTML page or a 500.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from bot.sim import wire
from bot.sim.auth import RateLimiter, RestAuthenticator
from bot.sim.engine import Exchange
from bot.sim.faults import FaultState
from bot.sim.wire import ApiError, envelope

logger = logging.getLogger(__name__)

Endpoint = Callable[[dict[str, Any]], Any]
# Bybit documents HTTP 401 for these; most captures show 200 + body (docs/bybit-v5.md §2).
AUTH_CODES = frozenset({wire.INVALID_KEY, wire.SIGN_ERROR})


class GhostReply(Exception):
    """The order was accepted; the reply must never arrive (``ghost_order_rate``)."""


class RestApi:
    """Routes ``/v5/...`` requests to endpoint functions."""

    def __init__(
        self,
        exchange: Exchange,
        auth: RestAuthenticator,
        faults: FaultState,
        *,
        rate_limits: bool,
        ghost_hold_s: float,
        auth_error_http_status: int = 200,
    ) -> None:
        self.exchange = exchange
        self.auth = auth
        self.faults = faults
        self.limiter = RateLimiter(enforce=rate_limits)
        self.ghost_hold_s = ghost_hold_s
        self.auth_error_http_status = auth_error_http_status
        self.routes: dict[tuple[str, str], tuple[Endpoint, bool]] = {}
        self.stats: Counter[str] = Counter()
        self.unknown_routes: Counter[str] = Counter()  # "GET /v5/..." -> requests
        self._trace_ids = itertools.count(1)

    def add(self, method: str, path: str, fn: Endpoint, *, private: bool) -> None:
        self.routes[(method, path)] = (fn, private)

    def _response(
        self, body: bytes, now_ms: int, limit: tuple[int, int, int], code: int, status: int = 200
    ) -> web.Response:
        headers = {
            "X-Bapi-Limit": str(limit[0]),
            "X-Bapi-Limit-Status": str(limit[1]),
            "X-Bapi-Limit-Reset-Timestamp": str(limit[2]),
            "Ret_code": str(code),
            "Traceid": f"{next(self._trace_ids):032x}",
            "Timenow": str(now_ms),
        }
        return web.Response(
            body=body, status=status, headers=headers, content_type="application/json"
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.stats["http_requests"] += 1
        faults = self.faults
        delay = faults.latency_s()
        if delay:
            await asyncio.sleep(delay)
        now = self.exchange.clock.now_ms()
        no_limit = (600, 599, now)
        if faults.roll("http_5xx_rate"):
            body = wire.dumps(
                {
                    "retCode": 10016,
                    "retMsg": "Service Unavailable",
                    "result": {},
                    "retExtInfo": {},
                    "time": now,
                }
            )
            return self._response(body, now, no_limit, 10016, status=503)
        route = self.routes.get((request.method, request.path))
        if route is None:
            known = any(path == request.path for _, path in self.routes)
            self.stats["http_not_found"] += 1
            wire.note_unknown(
                self.unknown_routes, f"{request.method} {request.path[:200]}", "route"
            )
            body = envelope(
                {},
                now,
                code=wire.ROUTE_NOT_FOUND,
                message="method not allowed" if known else "route not found",
            )
            return self._response(
                body, now, no_limit, wire.ROUTE_NOT_FOUND, status=405 if known else 404
            )
        fn, private = route
        limit = no_limit
        try:
            if faults.roll("http_10016_rate"):
                raise ApiError(wire.SERVER_ERROR)
            params, payload = await self._params(request)
            uid = self.auth.verify(request.headers, payload, now) if private else ""
            category = params.get("category")
            category = category if isinstance(category, str) else ""
            limit_value, remaining, reset_ms, allowed = self.limiter.hit(
                uid, request.path, category, now
            )
            limit = (limit_value, remaining, reset_ms)
            if faults.roll("rate_limit_rate"):
                limit, allowed = (limit_value, 0, now + 1000), False
            if not allowed:
                raise ApiError(wire.TOO_MANY_VISITS)
            result = fn(params)
        except ApiError as err:
            self.stats[f"ret_{err.code}"] += 1
            status = self.auth_error_http_status if err.code in AUTH_CODES else 200
            return self._response(
                envelope({}, now, code=err.code, message=err.message), now, limit, err.code, status
            )
        except GhostReply:
            return await self._ghost(request)
        return self._response(envelope(result, self.exchange.clock.now_ms()), now, limit, 0)

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], bytes]:
        """Params and the raw signed payload: the query exactly as received, or the body."""
        if request.method == "GET":
            raw = request.raw_path.partition("?")[2]
            try:
                pairs = parse_qsl(
                    raw, keep_blank_values=True, strict_parsing=False, max_num_fields=100
                )
            except ValueError:
                raise wire.params_error("invalid query string") from None
            return dict(pairs), raw.encode()
        body = await request.read()
        if not body.strip():
            return {}, body
        try:
            params = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise wire.params_error("invalid JSON body") from None
        if not isinstance(params, dict):
            raise wire.params_error("body must be a JSON object")
        return params, body

    async def _ghost(self, request: web.Request) -> web.StreamResponse:
        """Hold the reply (the client times out), then cut the connection without one."""
        self.stats["ghost_replies"] += 1
        await asyncio.sleep(self.ghost_hold_s)
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError  # aiohttp drops the handler quietly; nothing is sent

    def maybe_ghost(self) -> None:
        """Called by order entry after the order was accepted."""
        if self.faults.roll("ghost_order_rate"):
            raise GhostReply
