"""Bybit v5 request signing (HMAC-SHA256), shared by the bot's connectors and the simulator.

Recipe (bybit-v5.md §2): ``hex(HMAC_SHA256(secret, ts + api_key + recv_window + payload))``
where ``payload`` is the raw query string (GET, no ``?``) or the raw JSON body (POST), exactly
as sent. WebSocket auth signs ``"GET/realtime" + expires``. The simulator must verify against
the bytes it received, never a re-serialisation, so every function here takes the payload as
text and the verifier compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

DEFAULT_RECV_WINDOW_MS = 5000


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
    return sign(secret, f"GET/realtime{expires_ms}")


def verify(secret: str, payload: str, signature: str) -> bool:
    """Constant-time check of ``signature`` against ``payload``."""
    return hmac.compare_digest(sign(secret, payload), signature.lower())
