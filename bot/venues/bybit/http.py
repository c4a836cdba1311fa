"""Bybit v5 REST over one pooled aiohttp session: signing, clock offset, limits, retries.

* Pool: one ``TCPConnector`` (100 total / 30 per host, keep-alive 30 s, DNS cache 300 s by
  default), its size exported as ``http_pool_connections_limit{exchange}``.
* Signing (docs/bybit-v5.md §2): the query string or JSON body is built once, signed, and sent as
  those exact bytes (the URL is passed pre-encoded so aiohttp cannot re-encode it).
* Clock: ``X-BAPI-TIMESTAMP`` is local time plus the offset measured from ``/v5/market/time``;
  a 10002 reply resyncs it and retries.
* Limits: a token bucket per endpoint at Bybit's documented rate; a path whose
  ``X-Bapi-Limit-Status`` hits 0, or that answers 10006, is blocked until
  ``X-Bapi-Limit-Reset-Timestamp``; requests wait for that instead of spending the budget.
* Retries with backoff only for safe requests (reads, cancels: idempotent); a create or amend
  is sent once, and a lost reply surfaces as :class:`TransportError` for the order manager.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from typing import Any

import aiohttp
import orjson
from yarl import URL

from bot.bybit_v5.limits import limit_per_s
from bot.bybit_v5.retcodes import Meaning, meaning
from bot.bybit_v5.signing import rest_headers
from bot.clock import Clock, SystemClock
from bot.common.secrets import Credentials
from bot.config import HttpConfig
from bot.errors import (
    ApiError,
    AuthError,
    DuplicateOrderError,
    OrderNotFoundError,
    RateLimitedError,
    ServerBusyError,
    TimestampError,
    TransportError,
)
from bot.metrics import BotMetrics
from bot.ratelimit import TokenBucket

logger = logging.getLogger(__name__)


_BY_MEANING: dict[Meaning, type[ApiError]] = {
    Meaning.BUSY: ServerBusyError,
    Meaning.CLOCK: TimestampError,
    Meaning.AUTH: AuthError,
    Meaning.ORDER_GONE: OrderNotFoundError,
    Meaning.DUPLICATE_ID: DuplicateOrderError,
}


def api_error(ret_code: int, ret_msg: str, endpoint: str, reset_at_ms: int) -> ApiError:
    """The domain error for a non-zero retCode, by its meaning (docs/bybit-v5.md §5)."""
    kind = meaning(ret_code)
    if kind is Meaning.RATE_LIMITED:
        return RateLimitedError(ret_code, ret_msg, endpoint, reset_at_ms)
    return _BY_MEANING.get(kind, ApiError)(ret_code, ret_msg, endpoint)


class BybitRest:
    """An async Bybit v5 REST client; use as ``async with BybitRest(...) as rest``."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None,
        http: HttpConfig,
        metrics: BotMetrics,
        *,
        recv_window_ms: int = 5000,
        category: str = "linear",
        clock: Clock | None = None,
        ssl_context: ssl.SSLContext | None = None,
        pooled: bool = True,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._creds = credentials
        self._http = http
        self._metrics = metrics
        self._recv_window = str(recv_window_ms)
        self._category = category
        self._clock = clock or SystemClock()
        self._ssl = ssl_context
        self._pooled = pooled
        self._session: aiohttp.ClientSession | None = None
        self._blocked_until_ms: dict[str, float] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self.offset_ms = 0.0

    # ---- lifecycle ----------------------------------------------------------------------
    def _connector(self) -> aiohttp.TCPConnector:
        h = self._http
        if not self._pooled:  # benchmark peer: a fresh connection per request
            return aiohttp.TCPConnector(force_close=True, ssl=self._ssl or True)
        return aiohttp.TCPConnector(
            limit=h.pool_limit,
            limit_per_host=h.pool_limit_per_host,
            keepalive_timeout=h.keepalive_s,
            ttl_dns_cache=int(h.dns_cache_s) or None,
            use_dns_cache=h.dns_cache_s > 0,
            ssl=self._ssl or True,
        )

    async def __aenter__(self) -> BybitRest:
        self._session = aiohttp.ClientSession(
            connector=self._connector(),
            timeout=aiohttp.ClientTimeout(total=self._http.timeout_s),
            json_serialize=lambda o: orjson.dumps(o).decode(),
        )
        self._metrics.http_pool_limit.labels(exchange=self._metrics.exchange).set(
            self._http.pool_limit if self._pooled else 0
        )
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- time -----------------------------------------------------------------------------
    def now_ms(self) -> int:
        return int(self._clock.time() * 1000 + self.offset_ms)

    async def sync_time(self) -> float:
        """Measure the server clock offset (ms, server minus local) from ``/v5/market/time``."""
        sent = self._clock.time()
        result = await self.get("/v5/market/time", {}, auth=False)
        received = self._clock.time()
        server_ms = int(result["timeNano"]) / 1e6
        self.offset_ms = server_ms - (sent + received) / 2 * 1000
        logger.info("server clock offset %.1f ms", self.offset_ms)
        return self.offset_ms

    # ---- public verbs -------------------------------------------------------------------
    async def get(
        self, path: str, params: dict[str, Any], *, auth: bool = True, safe: bool = True
    ) -> dict[str, Any]:
        query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
        return await self._call("GET", path, query, auth=auth, safe=safe)

    async def post(self, path: str, body: dict[str, Any], *, safe: bool) -> dict[str, Any]:
        return await self._call("POST", path, orjson.dumps(body).decode(), auth=True, safe=safe)

    # ---- machinery ------------------------------------------------------------------------
    async def _call(
        self, method: str, path: str, payload: str, *, auth: bool, safe: bool
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            await self._wait_budget(path)
            try:
                return await self._once(method, path, payload, auth=auth)
            except TimestampError:
                if attempt >= self._http.max_retries:
                    raise
                await self.sync_time()  # rejected outright: safe to resend even a create
            except (TransportError, ServerBusyError, RateLimitedError):
                if not safe or attempt >= self._http.max_retries:
                    raise
                await self._clock.sleep(self._http.retry_base_s * 2**attempt)
            attempt += 1

    async def _wait_budget(self, path: str) -> None:
        until_ms = self._blocked_until_ms.get(path)
        if until_ms is not None:
            wait_s = (until_ms - self.now_ms()) / 1000
            if wait_s > 0:
                await self._clock.sleep(min(wait_s, 5.0))
            self._blocked_until_ms.pop(path, None)
        if not self._http.pace_requests:
            return
        bucket = self._buckets.get(path)
        if bucket is None:
            # Bybit's documented per-UID limit (docs/bybit-v5.md §3): wait for a token
            # instead of spending the venue's budget and collecting 10006.
            bucket = self._buckets[path] = TokenBucket(
                limit_per_s(path, self._category), self._clock
            )
        wait_s = bucket.take()
        if wait_s > 0:
            await self._clock.sleep(wait_s)

    def _headers(self, payload: str) -> dict[str, str]:
        if self._creds is None:
            raise ApiError(10003, "no API credentials configured", "auth")
        return rest_headers(
            self._creds.api_key.reveal(),
            self._creds.api_secret.reveal(),
            self.now_ms(),
            self._recv_window,
            payload,
        )

    async def _once(self, method: str, path: str, payload: str, *, auth: bool) -> dict[str, Any]:
        session = self._session
        if session is None:
            raise TransportError("REST client is closed")
        headers = self._headers(payload) if auth else {}
        if method == "GET":
            url = URL(
                f"{self._base}{path}?{payload}" if payload else f"{self._base}{path}", encoded=True
            )
            data = None
        else:
            url = URL(f"{self._base}{path}", encoded=True)
            headers["Content-Type"] = "application/json"
            data = payload.encode()
        started = time.perf_counter()
        try:
            async with session.request(method, url, headers=headers, data=data) as response:
                body = await response.read()
                status = response.status
                limit_status = response.headers.get("X-Bapi-Limit-Status")
                reset_ms = response.headers.get("X-Bapi-Limit-Reset-Timestamp")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._metrics.rest_errors.labels(endpoint=path, code="transport").inc()
            raise TransportError(f"{method} {path}: {type(exc).__name__}") from None
        finally:
            self._metrics.rest_latency.labels(endpoint=path).observe(time.perf_counter() - started)
        reset_at_ms = int(reset_ms) if reset_ms and reset_ms.isdigit() else self.now_ms() + 1000
        if limit_status == "0":
            self._blocked_until_ms[path] = reset_at_ms
        return self._decode(path, status, body, reset_at_ms)

    def _decode(self, path: str, status: int, body: bytes, reset_at_ms: int) -> dict[str, Any]:
        if status in (403, 429):
            self._blocked_until_ms[path] = max(reset_at_ms, self.now_ms() + 1000)
            self._metrics.rest_errors.labels(endpoint=path, code=str(status)).inc()
            raise RateLimitedError(10006, f"HTTP {status}", path, reset_at_ms)
        if status >= 500:
            self._metrics.rest_errors.labels(endpoint=path, code=str(status)).inc()
            raise TransportError(f"{path}: HTTP {status}")
        try:
            envelope = orjson.loads(body)
            ret_code = int(envelope["retCode"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            self._metrics.rest_errors.labels(endpoint=path, code=str(status)).inc()
            raise TransportError(f"{path}: HTTP {status}, not a Bybit envelope") from None
        if ret_code != 0:
            self._metrics.rest_errors.labels(endpoint=path, code=str(ret_code)).inc()
            if ret_code == 10006:
                self._blocked_until_ms[path] = reset_at_ms
            raise api_error(ret_code, str(envelope.get("retMsg", "")), path, reset_at_ms)
        result = envelope.get("result")
        return result if isinstance(result, dict) else {}


async def paged_list(
    rest: BybitRest, path: str, params: dict[str, Any], max_pages: int = 20
) -> list[dict[str, Any]]:
    """Every item of a cursor-paged list endpoint (``result.list`` + ``nextPageCursor``)."""
    items: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(max_pages):
        page = await rest.get(path, {**params, "cursor": cursor or None})
        items.extend(page.get("list") or [])
        cursor = page.get("nextPageCursor") or ""
        if not cursor:
            break
        await asyncio.sleep(0)
    return items
