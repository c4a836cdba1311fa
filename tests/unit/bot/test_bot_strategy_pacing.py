"""Quote refresh is paced by design: a live quote is re-priced at most every
``min_refresh_interval_s`` however often the touch moves; missing quotes are placed at once."""

from __future__ import annotations

from decimal import Decimal

from bot.config import RiskConfig, StrategyConfig
from bot.strategy import Amend, Create, LiveQuote, QuoteDecider, Side
from tests.unit.bot.conftest import BTC

QTY = Decimal("0.001")


def test_reprices_at_most_once_per_interval() -> None:
    now = [100.0]
    strategy = StrategyConfig(refresh_tolerance_ticks=1, min_refresh_interval_s=0.5)
    decider = QuoteDecider(strategy, RiskConfig(), BTC, clock=lambda: now[0])
    live = [
        LiveQuote("b", Side.BUY, 0, 950000, QTY, busy=False),
        LiveQuote("s", Side.SELL, 0, 950001, QTY, busy=False),
    ]
    amends = 0
    for step in range(100):  # the touch moves 5 ticks every 10 ms for one second
        now[0] += 0.01
        bid = 950000 + 5 * (step % 2 + 1)
        actions = decider.decide(bid, bid + 1, Decimal(0), live)
        amends += sum(isinstance(a, Amend) for a in actions)
    assert 2 <= amends <= 2 * 3  # two quotes, at most every 0.5 s over 1 s (first at once)


def test_missing_quotes_are_never_held_back() -> None:
    now = [0.0]
    strategy = StrategyConfig(min_refresh_interval_s=10.0)
    decider = QuoteDecider(strategy, RiskConfig(), BTC, clock=lambda: now[0])
    live = [LiveQuote("b", Side.BUY, 0, 949000, QTY, busy=False)]
    first = decider.decide(950000, 950001, Decimal(0), live)
    assert any(isinstance(a, Amend) for a in first)
    second = decider.decide(950010, 950011, Decimal(0), live)  # within the interval
    assert not any(isinstance(a, Amend) for a in second)
    assert any(isinstance(a, Create) and a.quote.side is Side.SELL for a in second)
