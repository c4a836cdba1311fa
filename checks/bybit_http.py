"""The few Bybit v5 calls the exchange checks make, blocking and bounded.

Protocol: docs/bybit-v5.md §2, §4, §7.

Each call takes the base URL and a timeout and either returns the decoded body or raises
:class:`ExchangeUnreachable` with a one-line reason ("connection refused", "timed out after
3s", "HTTP 502"): a check turns that into a ``fail``. Signing reuses
:mod:`bot.bybit_v5.signing`, the same code the bot and the simulator use. Secret values
only travel in request headers.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from checks.base import CheckError

HTTP_TIMEOUT_S = 3.0
USER_AGENT = "soakctl-verify"


class ExchangeUnreachable(CheckError):
    """The exchange did not answer usefully; the message says why in one line."""


def _reason(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    inner = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(inner, TimeoutError | socket.timeout):
        return f"no answer within {timeout_s:g}s"
    if isinstance(inner, ConnectionRefusedError):
        return "connection refused"
    if isinstance(inner, OSError) and inner.strerror:
        return inner.strerror.lower()
    return str(inner) or type(inner).__name__


def scrub(text: str, *values: str) -> str:
    """``text`` with each value masked: Bybit echoes the API key in some errors (10004)."""
    for value in values:
        if value:
            text = text.replace(value, "***")
    return text


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def get_json(
    url: str, *, headers: dict[str, str] | None = None, timeout_s: float = HTTP_TIMEOUT_S
) -> dict[str, Any]:
    """GET ``url`` and decode the JSON object it returns."""
    request = urllib.request.Request(  # noqa: S310 (http(s) only: checked in checks.context)
        url, headers={"User-Agent": USER_AGENT, **(headers or {})}
    )
    handlers = [urllib.request.ProxyHandler({})] if is_loopback(url) else []
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout_s) as response:
            body = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise ExchangeUnreachable(f"GET {url}: {_reason(exc, timeout_s)}") from exc
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ExchangeUnreachable(f"GET {url}: the answer is not JSON") from exc
    if not isinstance(data, dict):
        raise ExchangeUnreachable(f"GET {url}: expected a JSON object")
    return data


def server_time(rest_url: str, timeout_s: float = HTTP_TIMEOUT_S) -> tuple[float, float]:
    """(server time, local time at the midpoint of the request), both in Unix ms."""
    sent = time.time()
    body = get_json(f"{rest_url}/v5/market/time", timeout_s=timeout_s)
    received = time.time()
    if body.get("retCode") != 0:
        raise ExchangeUnreachable(
            f"GET /v5/market/time: retCode {body.get('retCode')} {body.get('retMsg', '')}".strip()
        )
    result = body.get("result") or {}
    try:
        if result.get("timeNano"):
            server_ms = int(result["timeNano"]) / 1e6
        elif result.get("timeSecond"):
            server_ms = int(result["timeSecond"]) * 1000.0
        else:
            server_ms = float(body["time"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ExchangeUnreachable("GET /v5/market/time: no server time in the answer") from exc
    return server_ms, (sent + received) / 2 * 1000.0


def signed_get(
    rest_url: str,
    path: str,
    query: str,
    *,
    api_key: str,
    api_secret: str,
    recv_window_ms: int,
    timeout_s: float = HTTP_TIMEOUT_S,
) -> dict[str, Any]:
    """A private GET signed the Bybit v5 way (HMAC over ts + key + recv_window + query)."""
    # The bot's own signer: one recipe for bot, sim and us.
    from bot.bybit_v5.signing import rest_headers

    timestamp = int(time.time() * 1000)
    headers = rest_headers(api_key, api_secret, timestamp, recv_window_ms, query)
    return get_json(f"{rest_url}{path}?{query}", headers=headers, timeout_s=timeout_s)
