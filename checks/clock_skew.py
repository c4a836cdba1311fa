"""``clock-skew``: our clock agrees with the exchange's, or signed requests get retCode 10002.

Bybit accepts a request when ``server_time - recv_window <= timestamp < server_time + 1000``
(docs/bybit-v5.md §2). We require the skew (local minus server, the local time taken at the middle
of the request) to stay within half the recv_window behind and half of the 1000 ms allowance
ahead, leaving the other half for network delay and drift over a 24 h run.
"""

from __future__ import annotations

from bot.bybit_v5.signing import MAX_AHEAD_MS
from checks.base import Outcome
from checks.bybit_http import server_time
from checks.context import CheckContext
from checks.exchange_base import ExchangeCheck

AHEAD_ALLOWANCE_MS = MAX_AHEAD_MS  # the server rejects timestamps >= server_time + 1000


class ClockSkewCheck(ExchangeCheck):
    name = "clock-skew"
    description = "local clock within half the recv_window of the exchange's /v5/market/time"
    timeout_s = 5.0

    def probe(self, ctx: CheckContext) -> Outcome:
        server_ms, local_ms = server_time(ctx.exchange.rest_url)
        skew_ms = local_ms - server_ms
        behind_limit_ms = ctx.recv_window_ms / 2
        ahead_limit_ms = AHEAD_ALLOWANCE_MS / 2
        details = {
            "skew_ms": round(skew_ms, 1),
            "recv_window_ms": ctx.recv_window_ms,
            "limits_ms": [-behind_limit_ms, ahead_limit_ms],
        }
        if skew_ms < -behind_limit_ms or skew_ms > ahead_limit_ms:
            direction = "behind" if skew_ms < 0 else "ahead of"
            limit = behind_limit_ms if skew_ms < 0 else ahead_limit_ms
            return Outcome.fail(
                f"local clock is {abs(skew_ms):.0f} ms {direction} the exchange "
                f"(limit {limit:.0f} ms with recv_window {ctx.recv_window_ms} ms)",
                fix="sync the clock (chrony / systemd-timesyncd / w32tm /resync)",
                **details,
            )
        return Outcome.ok(
            f"skew {skew_ms:+.0f} ms (limits -{behind_limit_ms:.0f}/+{ahead_limit_ms:.0f} ms)",
            **details,
        )
