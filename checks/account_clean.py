"""``account``: no open orders on the account before a run (``GET /v5/order/realtime``).

Orders left by an earlier run skew the soak: the bot's risk limits count them, fills arrive
for orders it never placed, and the after-check "no open orders" fails for reasons that are
not the run's. The request is signed with the configured credentials
(:mod:`bot.bybit_v5.signing`).
"""

from __future__ import annotations

from checks.base import Outcome
from checks.bybit_http import scrub, signed_get
from checks.context import CheckContext
from checks.exchange_base import ExchangeCheck
from checks.secrets_files import read_credentials

QUERY = "category=linear&limit=50&settleCoin=USDT"


class AccountCleanCheck(ExchangeCheck):
    name = "account"
    description = "no open orders on the account (signed GET /v5/order/realtime)"
    timeout_s = 5.0

    def probe(self, ctx: CheckContext) -> Outcome:
        credentials = read_credentials(ctx)
        if credentials is None:
            return Outcome.skip("no readable credentials (see the secrets check)")
        key, secret = credentials
        body = signed_get(
            ctx.exchange.rest_url,
            "/v5/order/realtime",
            QUERY,
            api_key=key,
            api_secret=secret,
            recv_window_ms=ctx.recv_window_ms,
        )
        if body.get("retCode") != 0:
            return Outcome.fail(
                f"GET /v5/order/realtime: retCode {body.get('retCode')} "
                f"{scrub(str(body.get('retMsg', '')), key, secret)}".strip(),
                fix="check the API key and secret belong to this exchange (10003/10004) and the "
                "clock (10002)",
            )
        orders = (body.get("result") or {}).get("list") or []
        if orders:
            shown = ", ".join(
                f"{o.get('symbol')} {o.get('side')} {o.get('qty')}@{o.get('price')}"
                for o in orders[:3]
            )
            more = "+" if len(orders) >= 50 else ""
            return Outcome.fail(
                f"{len(orders)}{more} open order(s): {shown}",
                fix="mmbot orders --cancel-all (or cancel them on the exchange)",
                open_orders=len(orders),
            )
        return Outcome.ok("no open orders (linear, USDT-settled)")
