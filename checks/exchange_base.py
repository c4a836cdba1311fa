"""The prologue every exchange check shares, written once: :class:`ExchangeCheck`.

Skip when there is no exchange to reach yet (the run starts its own, or none is configured);
otherwise run the check's :meth:`ExchangeCheck.probe`, and turn an
:class:`~checks.bybit_http.ExchangeUnreachable` into one ``fail`` naming the URL, where that URL
came from, and the check's fix.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from checks.base import Check, Outcome
from checks.bybit_http import ExchangeUnreachable
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


class ExchangeCheck(Check):
    unreachable_fix: ClassVar[str] = (
        "start the exchange (mmbot sim --port 8900) or point MMBOT_REST_URL / --exchange-url at it"
    )

    def run(self, ctx: CheckContext) -> Outcome:
        if (skipped := not_applicable(ctx)) is not None:
            return skipped
        try:
            return self.probe(ctx)
        except ExchangeUnreachable as exc:
            return Outcome.fail(f"{exc} (URL from {ctx.exchange.source})", fix=self.unreachable_fix)

    @abstractmethod
    def probe(self, ctx: CheckContext) -> Outcome:
        """The check itself, against a configured exchange; may raise ExchangeUnreachable."""
