"""Typed errors from the exchange, mapped from Bybit ``retCode`` values (bybit-v5.md §5).

    ExchangeError                     any failure talking to the exchange
    ├── TransportError                no usable reply (timeout, reset, HTTP 5xx): outcome unknown
    └── ApiError                      a reply with retCode != 0: the request was *not* done
        ├── RateLimitedError          10006 / HTTP 429 / 403: wait until ``reset_at_ms``
        ├── ServerBusyError           10000 / 10016: retry with backoff, reconcile orders
        ├── TimestampError            10002: resync the clock and retry
        ├── AuthError                 10003/10004/10005/10007/10010: fatal, stop the bot
        ├── OrderNotFoundError        110001/110008/110010/170213: already gone (reconcile)
        └── DuplicateOrderError       110072: that orderLinkId exists already (reconcile)

A :class:`TransportError` on a create or amend leaves the order *unknown*: the order manager
resolves it against the exchange and never guesses.
"""

from __future__ import annotations

from bot.bybit_v5.retcodes import Meaning, meaning


class ExchangeError(Exception):
    """Base of connector errors. Messages carry endpoint and code, never credentials."""


class TransportError(ExchangeError):
    """No usable response: the request may or may not have taken effect."""


class ApiError(ExchangeError):
    def __init__(self, ret_code: int, ret_msg: str, endpoint: str) -> None:
        super().__init__(f"{endpoint}: retCode {ret_code}: {ret_msg}")
        self.ret_code = ret_code
        self.ret_msg = ret_msg
        self.endpoint = endpoint


class RateLimitedError(ApiError):
    def __init__(self, ret_code: int, ret_msg: str, endpoint: str, reset_at_ms: int) -> None:
        super().__init__(ret_code, ret_msg, endpoint)
        self.reset_at_ms = reset_at_ms


class ServerBusyError(ApiError):
    pass


class TimestampError(ApiError):
    pass


class AuthError(ApiError):
    pass


class OrderNotFoundError(ApiError):
    pass


class DuplicateOrderError(ApiError):
    pass


_BY_MEANING: dict[Meaning, type[ApiError]] = {
    Meaning.BUSY: ServerBusyError,
    Meaning.CLOCK: TimestampError,
    Meaning.AUTH: AuthError,
    Meaning.ORDER_GONE: OrderNotFoundError,
    Meaning.DUPLICATE_ID: DuplicateOrderError,
}


def api_error(ret_code: int, ret_msg: str, endpoint: str, reset_at_ms: int) -> ApiError:
    """The typed error for a non-zero retCode (its meaning: bot.bybit_v5.retcodes)."""
    kind = meaning(ret_code)
    if kind is Meaning.RATE_LIMITED:
        return RateLimitedError(ret_code, ret_msg, endpoint, reset_at_ms)
    return _BY_MEANING.get(kind, ApiError)(ret_code, ret_msg, endpoint)
