"""Bybit v5 ``retCode`` values, their standard messages and what each means to a client
(docs/bybit-v5.md §5).

The simulator answers with these codes and messages; the bot's Bybit venue turns a non-zero
code into a domain error by its :class:`Meaning` (:func:`meaning`). One table, so the two sides
cannot disagree about what a code says.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class RetCode(IntEnum):
    OK = 0
    SERVER_TIMEOUT = 10000
    PARAMS_ERROR = 10001
    TIMESTAMP_ERROR = 10002
    INVALID_KEY = 10003
    SIGN_ERROR = 10004
    PERMISSION_DENIED = 10005
    TOO_MANY_VISITS = 10006
    AUTH_FAILED = 10007
    UNMATCHED_IP = 10010
    SERVER_ERROR = 10016
    ROUTE_NOT_FOUND = 10017
    TRADING_BANNED = 10027
    SYMBOL_NOT_WHITELISTED = 10029
    BAD_WS_OP = 10404
    ORDER_NOT_EXISTS = 110001
    BALANCE_LINEAR = 110007
    ORDER_COMPLETED = 110008
    ORDER_CANCELLED = 110010
    REDUCE_ONLY_ZERO = 110017
    TOO_MANY_ORDERS = 110020
    AMEND_QTY_BELOW_FILLED = 110064
    DUPLICATE_LINK_ID = 110072
    NOTIONAL_TOO_LOW = 110094
    SPOT_BALANCE = 170131
    SPOT_PRICE_DECIMALS = 170134
    SPOT_QTY_TOO_LOW = 170136
    SPOT_QTY_DECIMALS = 170137
    SPOT_VALUE_TOO_LOW = 170140
    SPOT_DUPLICATE_LINK_ID = 170141
    SPOT_ORDER_NOT_EXISTS = 170213
    WS_REPEAT_AUTH = 20001
    WS_DUPLICATE_REQ_ID = 20006


MESSAGES: dict[int, str] = {
    RetCode.SERVER_TIMEOUT: "Server Timeout",
    RetCode.INVALID_KEY: "API key is invalid.",
    RetCode.TOO_MANY_VISITS: "Too many visits. Exceeded the API Rate Limit.",
    RetCode.SERVER_ERROR: "Internal server error.",
    RetCode.ROUTE_NOT_FOUND: "route not found",
    RetCode.BALANCE_LINEAR: "ab not enough for new order",
    RetCode.TOO_MANY_ORDERS: "too many open orders",
    RetCode.DUPLICATE_LINK_ID: "OrderLinkedID is duplicate",
    RetCode.NOTIONAL_TOO_LOW: "the order value is below the minimum order value",
    RetCode.SPOT_BALANCE: "Insufficient balance.",
    RetCode.SPOT_PRICE_DECIMALS: "Order price decimal too long.",
    RetCode.SPOT_QTY_TOO_LOW: "Order quantity is lower than the minimum.",
    RetCode.SPOT_QTY_DECIMALS: "Order quantity has too many decimals.",
    RetCode.SPOT_VALUE_TOO_LOW: "Order value exceeded lower limit.",
    RetCode.SPOT_DUPLICATE_LINK_ID: "Duplicate clientOrderId.",
    RetCode.SPOT_ORDER_NOT_EXISTS: "Order does not exist.",
}


class Meaning(StrEnum):
    """What a client should do about a code (the "bot action" column of docs/bybit-v5.md §5)."""

    OK = "ok"
    BUSY = "busy"  # retry with backoff; the outcome of a write is unknown
    CLOCK = "clock"  # timestamp outside recv_window: resync the clock, then retry
    RATE_LIMITED = "rate_limited"  # wait until X-Bapi-Limit-Reset-Timestamp
    AUTH = "auth"  # credentials or permissions refused: fatal
    ORDER_GONE = "order_gone"  # the order is filled or cancelled already: reconcile
    DUPLICATE_ID = "duplicate_id"  # that orderLinkId exists already: reconcile
    REJECTED = "rejected"  # a definite "no" to this request


_MEANINGS: dict[int, Meaning] = {
    RetCode.OK: Meaning.OK,
    RetCode.SERVER_TIMEOUT: Meaning.BUSY,
    RetCode.SERVER_ERROR: Meaning.BUSY,
    RetCode.TIMESTAMP_ERROR: Meaning.CLOCK,
    RetCode.TOO_MANY_VISITS: Meaning.RATE_LIMITED,
    RetCode.INVALID_KEY: Meaning.AUTH,
    RetCode.SIGN_ERROR: Meaning.AUTH,
    RetCode.PERMISSION_DENIED: Meaning.AUTH,
    RetCode.AUTH_FAILED: Meaning.AUTH,
    RetCode.UNMATCHED_IP: Meaning.AUTH,
    RetCode.ORDER_NOT_EXISTS: Meaning.ORDER_GONE,
    RetCode.ORDER_COMPLETED: Meaning.ORDER_GONE,
    RetCode.ORDER_CANCELLED: Meaning.ORDER_GONE,
    RetCode.SPOT_ORDER_NOT_EXISTS: Meaning.ORDER_GONE,
    RetCode.DUPLICATE_LINK_ID: Meaning.DUPLICATE_ID,
}


def meaning(code: int) -> Meaning:
    """What ``code`` means to a client; any code not listed is a plain rejection."""
    return _MEANINGS.get(code, Meaning.REJECTED)


def message(code: int) -> str:
    """Bybit's standard ``retMsg`` for ``code`` (``"error"`` when it has no fixed text)."""
    return MESSAGES.get(code, "error")
