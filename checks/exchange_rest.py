"""``exchange-rest``: the exchange's REST API answers (``GET /v5/market/time``, retCode 0).

Where the URL comes from is :mod:`checks.context`'s business; this check says which source it
used, so "unreachable" always comes with the URL that was tried. A closed port fails in
milliseconds (connection refused); a silent host at the HTTP timeout, well inside the check's.
"""

from __future__ import annotations

import time

from checks.base import Outcome
from checks.bybit_http import server_time
from checks.context import CheckContext
from checks.exchange_base import ExchangeCheck


class ExchangeRestCheck(ExchangeCheck):
    name = "exchange-rest"
    description = "the exchange REST API answers GET /v5/market/time"
    timeout_s = 5.0

    def probe(self, ctx: CheckContext) -> Outcome:
        started = time.perf_counter()
        server_time(ctx.exchange.rest_url)
        rtt_ms = (time.perf_counter() - started) * 1000
        return Outcome.ok(
            f"{ctx.exchange.rest_url} answers in {rtt_ms:.0f} ms",
            rest_url=ctx.exchange.rest_url,
            source=ctx.exchange.source,
        )
