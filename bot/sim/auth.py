"""REST authentication and per-endpoint rate limits, as Bybit applies them
(docs/bybit-v5.md §2, §3).

The signature is checked against the **raw bytes received** (the query string exactly as it
came after ``?``, or the body), never a re-serialisation, with a constant-time compare. Order
of checks: headers present (10001), key known (10003), timestamp inside the recv_window rule
(10002), signature (10004). The 10004 message echoes the origin string like Bybit does, with
the API key masked so a key never lands in a client's log by way of this simulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.bybit_v5 import signing
from bot.bybit_v5.limits import PUBLIC_LIMIT_PER_S, limit_per_s
from bot.bybit_v5.signing import DEFAULT_RECV_WINDOW_MS
from bot.sim import wire
from bot.sim.wire import ApiError


def check_timestamp(timestamp: object, recv_window: object, now_ms: int) -> None:
    """The recv_window rule (docs/bybit-v5.md §2) for REST headers and ``/v5/trade`` request
    headers alike: 10001 when either is not an integer, 10002 when outside the window."""
    ts, window = wire.ascii_int(timestamp, 16), wire.ascii_int(recv_window, 9)
    if ts is None or window is None:
        raise wire.params_error("X-BAPI-TIMESTAMP and X-BAPI-RECV-WINDOW must be integers")
    if not signing.timestamp_ok(ts, window, now_ms):
        raise ApiError(wire.TIMESTAMP_ERROR, signing.timestamp_error_message(ts, window, now_ms))


def mask_key(api_key: str) -> str:
    return api_key[:3] + "***" if len(api_key) > 6 else "***"


class RestAuthenticator:
    """Maps API keys to secrets and verifies signed requests."""

    def __init__(self, keys: dict[str, str]) -> None:
        self._secrets = {key: secret.encode() for key, secret in keys.items()}

    def secret_of(self, api_key: str) -> bytes | None:
        return self._secrets.get(api_key)

    def verify(self, headers: Any, payload: bytes, now_ms: int) -> str:
        """The API key of a correctly signed request, else :class:`ApiError`."""
        api_key = str(headers.get("X-BAPI-API-KEY", ""))
        timestamp = headers.get("X-BAPI-TIMESTAMP", "")
        signature = headers.get("X-BAPI-SIGN", "")
        recv_window = headers.get("X-BAPI-RECV-WINDOW") or str(DEFAULT_RECV_WINDOW_MS)
        if not (api_key and timestamp and signature):
            raise ApiError(
                wire.PARAMS_ERROR,
                f"empty value: apiTimestamp[{timestamp}] "
                f"apiKey[{mask_key(api_key) if api_key else ''}]"
                f" apiSignature[{'xxxx' if signature else ''}]: openapi sign params error!",
            )
        secret = self._secrets.get(api_key)
        if secret is None:
            raise ApiError(wire.INVALID_KEY)
        check_timestamp(timestamp, recv_window, now_ms)
        if not signing.verify_rest(secret, timestamp, api_key, recv_window, payload, signature):
            shown = payload[:256].decode("utf-8", "replace")
            raise ApiError(
                wire.SIGN_ERROR,
                f"error sign! origin_string[{timestamp}{mask_key(api_key)}{recv_window}{shown}]",
            )
        return api_key

    def verify_ws(self, args: object, now_ms: int) -> str:
        """The API key of a valid private WS ``auth`` (``expires > now``), else ``ValueError``."""
        if not isinstance(args, list) or len(args) != 3:
            raise ValueError("invalid auth args")
        api_key, expires, signature = args
        if not isinstance(api_key, str) or not isinstance(signature, str):
            raise ValueError("invalid auth args")
        secret = self._secrets.get(api_key)
        if secret is None:
            raise ValueError("API key is invalid")
        expires_ms = wire.ascii_int(expires)
        if expires_ms is None:
            raise ValueError("invalid expires")
        if expires_ms <= now_ms:
            raise ValueError("Params Error: auth expired")
        if not signing.verify_ws_auth(secret, expires, signature):
            raise ValueError("error:verify signature fail")  # legacy Bybit wording
        return api_key


@dataclass(slots=True)
class _Window:
    start_ms: int
    count: int


class RateLimiter:
    """Fixed one-second windows per (uid, endpoint, category); answers the three headers."""

    def __init__(self, *, enforce: bool) -> None:
        self.enforce = enforce
        self._windows: dict[tuple[str, str, str], _Window] = {}

    def hit(self, uid: str, path: str, category: str, now_ms: int) -> tuple[int, int, int, bool]:
        """``(limit, remaining, reset_ms, allowed)`` for one request."""
        limit = limit_per_s(path, category) if uid else PUBLIC_LIMIT_PER_S
        if not self.enforce:
            return limit, limit - 1, now_ms, True
        key = (uid, path, category)
        window = self._windows.get(key)
        if window is None or now_ms - window.start_ms >= 1000:
            if len(self._windows) > 10_000:
                self._windows.clear()  # bounded: keys come from a fixed endpoint set in practice
            window = self._windows[key] = _Window(now_ms, 0)
        window.count += 1
        reset_ms = window.start_ms + 1000
        if window.count > limit:
            return limit, 0, reset_ms, False
        return limit, limit - window.count, now_ms, True
