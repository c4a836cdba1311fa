"""``exchange-rest``: the exchange's REST API answers (``GET /v5/market/time``, retCode 0).

Where the URL comes from is :mod:`checks.context`'s business; this check says which source it
used, so "unreachable" always comes with the URL that was tried. A closed port fails in
milliseconds (connection refused); a silent host at the HTTP timeout, well inside the check's.
"""

from __future__ import annotations

import time

from checks.base import Check, Outcome
from checks.bybit_http import ExchangeUnreachable, server_time
from checks.context import CheckContext, ExchangeMode


def not_applicable(ctx: CheckContext) -> Outcome | None:
    """The ``skip`` every exchange check gives when there is no exchange to reach yet."""
    if ctx.exchange.mode is ExchangeMode.EXTERNAL:
        return None
    if ctx.exchange.mode is ExchangeMode.RUN:
        return Outcome.skip(
            f"the exchange is {ctx.exchange.source}; give --exchange-url to check one now"
        )
    return Outcome.skip(f"{ctx.exchange.source}; give --exchange-url to check one")


def unreachable(ctx: CheckContext, exc: ExchangeUnreachable) -> Outcome:
    return Outcome.fail(
        f"{exc} (URL from {ctx.exchange.source})",
        fix="start the exchange (mmbot sim --port 8900) or point MMBOT_REST_URL / "
        "--exchange-url at it",
    )


class ExchangeRestCheck(Check):
    name = "exchange-rest"
    description = "the exchange REST API answers GET /v5/market/time"
    timeout_s = 5.0

    def run(self, ctx: CheckContext) -> Outcome:
        if (skipped := not_applicable(ctx)) is not None:
            return skipped
        started = time.perf_counter()
        try:
            server_time(ctx.exchange.rest_url)
        except ExchangeUnreachable as exc:
            return unreachable(ctx, exc)
        rtt_ms = (time.perf_counter() - started) * 1000
        return Outcome.ok(
            f"{ctx.exchange.rest_url} answers in {rtt_ms:.0f} ms",
            rest_url=ctx.exchange.rest_url,
            source=ctx.exchange.source,
        )
