"""Bybit v5 request signing (HMAC-SHA256) and the timestamp rule, for the bot and the simulator.

Recipe (docs/bybit-v5.md §2): ``hex(HMAC_SHA256(secret, ts + api_key + recv_window + payload))``
where ``payload`` is the raw query string (GET, no ``?``) or the raw JSON body (POST), exactly
as sent. WebSocket auth signs ``"GET/realtime" + expires``. The simulator must verify against
the bytes it received, never a re-serialisation, so every function here takes the payload as
sent and the verifiers compare in constant time.

Timestamp rule (docs/bybit-v5.md §2): a request is accepted when
``server_time - recv_window <= timestamp < server_time + 1000``, else retCode 10002.
"""

from __future__ import annotations

import hashlib
import hmac

DEFAULT_RECV_WINDOW_MS = 5000
MAX_AHEAD_MS = 1000  # a timestamp may lead the server clock by less than this
WS_AUTH_PREFIX = "GET/realtime"


def sign(secret: str, payload: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``payload`` under ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def rest_payload(
    timestamp_ms: int | str, api_key: str, recv_window_ms: int | str, body: str
) -> str:
    """The string Bybit signs for a REST request: ts + key + recv_window + query-or-body."""
    return f"{timestamp_ms}{api_key}{recv_window_ms}{body}"


def sign_rest(
    secret: str, timestamp_ms: int | str, api_key: str, recv_window_ms: int | str, body: str
) -> str:
    """``X-BAPI-SIGN`` for a REST request."""
    return sign(secret, rest_payload(timestamp_ms, api_key, recv_window_ms, body))


def sign_ws_auth(secret: str, expires_ms: int | str) -> str:
    """Signature for the private WebSocket ``auth`` op: HMAC of ``GET/realtime{expires}``."""
    return sign(secret, f"{WS_AUTH_PREFIX}{expires_ms}")


def rest_headers(
    api_key: str, api_secret: str, timestamp_ms: int | str, recv_window_ms: int | str, payload: str
) -> dict[str, str]:
    """The signed headers of a private REST request (docs/bybit-v5.md §2); ``payload`` is the
    query string or body exactly as it will be sent."""
    return {
        "X-BAPI-API-KEY": api_key,
        "X-BAPI-TIMESTAMP": str(timestamp_ms),
        "X-BAPI-RECV-WINDOW": str(recv_window_ms),
        "X-BAPI-SIGN": sign_rest(api_secret, timestamp_ms, api_key, recv_window_ms, payload),
        "X-BAPI-SIGN-TYPE": "2",
    }


def verify(secret: str, payload: str, signature: str) -> bool:
    """Constant-time check of ``signature`` against ``payload``."""
    return hmac.compare_digest(sign(secret, payload), signature.lower())


def verify_rest(
    secret: bytes, timestamp: str, api_key: str, recv_window: str, body: bytes, signature: str
) -> bool:
    """Constant-time check of a REST ``X-BAPI-SIGN`` against the header strings and the raw
    query-or-body bytes exactly as received (the simulator's side of :func:`sign_rest`)."""
    mac = hmac.new(secret, f"{timestamp}{api_key}{recv_window}".encode(), hashlib.sha256)
    mac.update(body)
    return hmac.compare_digest(mac.hexdigest(), signature.lower())


def verify_ws_auth(secret: bytes, expires: object, signature: str) -> bool:
    """Constant-time check of a WebSocket ``auth`` signature (``expires`` as the client sent it)."""
    expected = hmac.new(secret, f"{WS_AUTH_PREFIX}{expires}".encode(), hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), signature.lower())


def timestamp_ok(timestamp_ms: int, recv_window_ms: int, now_ms: int) -> bool:
    """The recv_window rule: ``now - recv_window <= timestamp < now + 1000``."""
    return now_ms - recv_window_ms <= timestamp_ms < now_ms + MAX_AHEAD_MS


def timestamp_error_message(timestamp_ms: int, recv_window_ms: int, now_ms: int) -> str:
    """Bybit's 10002 ``retMsg`` for a timestamp outside the window (field capture)."""
    return (
        "invalid request, please check your server timestamp or recv_window param. "
        f"req_timestamp[{timestamp_ms}],server_timestamp[{now_ms}],recv_window[{recv_window_ms}]"
    )
