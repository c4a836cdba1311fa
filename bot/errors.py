"""Domain errors: what can go wrong talking to a venue, whichever venue it is.

    ExchangeError                     any failure talking to the exchange
    ├── TransportError                no usable reply (timeout, reset, HTTP 5xx): outcome unknown
    ├── ConfigurationError            permanent: the venue will never accept this configuration
    │                                 (symbol not listed, wrong category): stop, exit 2
    └── ApiError                      a reply refusing the request: it was *not* done
        ├── RateLimitedError          over the venue's budget: wait until ``reset_at_ms``
        ├── ServerBusyError           venue busy or restarting: retry with backoff, reconcile
        ├── TimestampError            our clock is off: resync it and retry
        ├── AuthError                 credentials or permissions refused: fatal
        ├── OrderNotFoundError        already filled or cancelled (reconcile)
        └── DuplicateOrderError       that client order id exists already (reconcile)
    StreamFatalError                  a stream cannot continue (auth refused, gave up): stop

A :class:`TransportError` on a create or amend leaves the order *unknown*: the order manager
resolves it against the exchange and never guesses. ``code`` is the venue's own error code,
kept for metrics and logs only: nothing outside the venue package branches on it.
"""

from __future__ import annotations


class ExchangeError(Exception):
    """Base of venue errors. Messages carry endpoint and code, never credentials."""


class TransportError(ExchangeError):
    """No usable response: the request may or may not have taken effect."""


class ConfigurationError(ExchangeError):
    """The venue will never accept this configuration; retrying cannot help."""


class ApiError(ExchangeError):
    def __init__(self, code: int, reason: str, endpoint: str) -> None:
        super().__init__(f"{endpoint}: retCode {code}: {reason}")
        self.code = code
        self.reason = reason
        self.endpoint = endpoint


class RateLimitedError(ApiError):
    def __init__(self, code: int, reason: str, endpoint: str, reset_at_ms: int) -> None:
        super().__init__(code, reason, endpoint)
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


class StreamFatalError(Exception):
    """The stream cannot continue (auth refused, max reconnects): stop the bot."""
