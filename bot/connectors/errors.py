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


_BY_CODE: dict[int, type[ApiError]] = {
    10000: ServerBusyError,
    10016: ServerBusyError,
    10002: TimestampError,
    10003: AuthError,
    10004: AuthError,
    10005: AuthError,
    10007: AuthError,
    10010: AuthError,
    110001: OrderNotFoundError,
    110008: OrderNotFoundError,
    110010: OrderNotFoundError,
    170213: OrderNotFoundError,
    110072: DuplicateOrderError,
}


def api_error(ret_code: int, ret_msg: str, endpoint: str, reset_at_ms: int) -> ApiError:
    """The typed error for a non-zero retCode."""
    if ret_code == 10006:
        return RateLimitedError(ret_code, ret_msg, endpoint, reset_at_ms)
    return _BY_CODE.get(ret_code, ApiError)(ret_code, ret_msg, endpoint)
