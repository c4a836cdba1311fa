"""``exchange-ws``: the public and private WebSockets accept a connection and answer a ping.

Public: connect to the linear public stream, send ``{"op": "ping"}``, expect a pong
(``ret_msg == "pong"`` or ``op == "pong"``, docs/bybit-v5.md §7). Private: the same, after an
``auth`` op when credentials are configured (an auth failure is reported: the bot would loop
on reconnects). Every wait is bounded, so a stalled socket fails inside the check's timeout.
"""

from __future__ import annotations

import json
import time
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from checks.base import Outcome
from checks.bybit_http import ExchangeUnreachable, is_loopback, scrub
from checks.context import CheckContext
from checks.exchange_base import ExchangeCheck
from checks.secrets_files import read_credentials

WS_TIMEOUT_S = 3.0


def _await(ws: ClientConnection, want: str, deadline: float) -> dict[str, Any]:
    """The next message answering op ``want`` (other pushes are skipped)."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ExchangeUnreachable(f"no {want} answer within {WS_TIMEOUT_S:g}s")
        try:
            raw = ws.recv(timeout=remaining)
        except TimeoutError:
            continue
        try:
            message = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(message, dict):
            continue
        if want == "ping" and (message.get("ret_msg") == "pong" or message.get("op") == "pong"):
            return message
        if message.get("op") == want:
            return message


def probe(url: str, credentials: tuple[str, str] | None = None) -> float:
    """Connect, optionally auth, ping; return the round trip in ms or raise ExchangeUnreachable."""
    from bot.bybit_v5.signing import sign_ws_auth  # the bot's signer, so we test what it will send

    started = time.monotonic()
    deadline = started + WS_TIMEOUT_S
    try:
        with connect(
            url,
            open_timeout=WS_TIMEOUT_S,
            close_timeout=1,
            proxy=None if is_loopback(url) else True,
        ) as ws:
            if credentials is not None:
                key, secret = credentials
                expires = int(time.time() * 1000) + 10_000
                ws.send(
                    json.dumps(
                        {
                            "req_id": "soakctl-auth",
                            "op": "auth",
                            "args": [key, expires, sign_ws_auth(secret, expires)],
                        }
                    )
                )
                answer = _await(ws, "auth", deadline)
                if not answer.get("success"):
                    reason = scrub(str(answer.get("ret_msg") or "?"), key, secret)
                    raise ExchangeUnreachable(f"auth refused: {reason}")
            ws.send(json.dumps({"req_id": "soakctl-ping", "op": "ping"}))
            _await(ws, "ping", deadline)
    except (OSError, TimeoutError, WebSocketException) as exc:
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
        raise ExchangeUnreachable(f"{url}: {reason or type(exc).__name__}") from exc
    return (time.monotonic() - started) * 1000


class ExchangeWsCheck(ExchangeCheck):
    name = "exchange-ws"
    description = "public and private WebSockets connect, authenticate and answer a ping"
    timeout_s = 8.0

    unreachable_fix = "start the exchange, or set MMBOT_WS_PUBLIC_URL / MMBOT_WS_PRIVATE_URL"

    def probe(self, ctx: CheckContext) -> Outcome:
        exchange = ctx.exchange
        credentials = read_credentials(ctx)
        public_ms = probe(exchange.ws_public_url)
        private_ms = probe(exchange.ws_private_url, credentials)
        auth = "authenticated" if credentials else "no credentials: auth not tried"
        return Outcome.ok(
            f"public {public_ms:.0f} ms, private {private_ms:.0f} ms ({auth})",
            ws_public_url=exchange.ws_public_url,
            ws_private_url=exchange.ws_private_url,
        )
