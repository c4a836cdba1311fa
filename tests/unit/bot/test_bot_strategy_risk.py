"""Quote placement, inventory skew, position limit, the refresh plan, and risk checks."""

from __future__ import annotations

from decimal import Decimal

from bot.clock import FakeClock
from bot.config import RiskConfig, StrategyConfig
from bot.risk import RefusalReason, RiskManager
from bot.strategy import Amend, Cancel, Create, LiveQuote, Quote, Side, desired_quotes, plan
from tests.unit.bot.conftest import BTC

STRAT = StrategyConfig(levels=2, order_qty=Decimal("0.001"), skew_ticks_at_limit=2)
RISK = RiskConfig(max_position=Decimal("0.004"))
BID, ASK = 950000, 950001  # 95000.0 / 95000.1


def test_flat_quotes_at_touch_and_levels() -> None:
    quotes = desired_quotes(BID, ASK, Decimal(0), STRAT, RISK, BTC)
    assert {(q.side, q.level, q.price_ticks) for q in quotes} == {
        (Side.BUY, 0, BID),
        (Side.SELL, 0, ASK),
        (Side.BUY, 1, BID - 1),
        (Side.SELL, 1, ASK + 1),
    }
    assert all(q.qty == Decimal("0.001") for q in quotes)


def test_long_position_skews_down_and_never_crosses() -> None:
    quotes = desired_quotes(BID, ASK, Decimal("0.002"), STRAT, RISK, BTC)
    top = {q.side: q.price_ticks for q in quotes if q.level == 0}
    assert top[Side.BUY] == BID - 1  # skew 1 tick at half the limit
    assert top[Side.SELL] == ASK  # would cross the bid if moved down: clamped
    assert all(q.price_ticks < ASK for q in quotes if q.side is Side.BUY)
    assert all(q.price_ticks > BID for q in quotes if q.side is Side.SELL)


def test_position_limit_drops_the_side() -> None:
    quotes = desired_quotes(BID, ASK, Decimal("0.004"), STRAT, RISK, BTC)
    assert quotes and all(q.side is Side.SELL for q in quotes)
    quotes = desired_quotes(BID, ASK, Decimal("-0.004"), STRAT, RISK, BTC)
    assert quotes and all(q.side is Side.BUY for q in quotes)


def test_plan_keeps_within_tolerance_amends_far_cancels_extra() -> None:
    desired = [
        Quote(Side.BUY, 0, 100, Decimal(1)),
        Quote(Side.SELL, 0, 110, Decimal(1)),
        Quote(Side.BUY, 1, 99, Decimal(1)),
    ]
    live = [
        LiveQuote("a", Side.BUY, 0, 101, Decimal(1), busy=False),  # 1 tick off: keep
        LiveQuote("b", Side.SELL, 0, 115, Decimal(1), busy=False),  # far: amend
        LiveQuote("c", Side.SELL, 3, 120, Decimal(1), busy=False),  # not wanted: cancel
        LiveQuote("d", Side.BUY, 1, 50, Decimal(1), busy=True),  # busy: leave alone
    ]
    actions = plan(desired, live, tolerance_ticks=1)
    assert actions == [Amend("b", desired[1]), Cancel("c")]
    assert plan(desired, [], 1) == [Create(q) for q in desired]


def test_risk_rate_open_orders_position_and_breakers() -> None:
    clock = FakeClock()
    risk = RiskManager(
        RiskConfig(
            max_submits_per_s=2,
            max_open_orders=3,
            max_errors=3,
            error_window_s=10,
            max_position=Decimal(1),
            max_drawdown_quote=Decimal(50),
        ),
        clock,
    )
    assert risk.check_submit(opens_order=True, open_orders=0) is None
    assert risk.check_submit(opens_order=True, open_orders=0) is None
    refusal = risk.check_submit(opens_order=True, open_orders=0)
    assert refusal is not None and refusal.reason is RefusalReason.RATE
    clock.advance(1.0)
    assert risk.check_submit(opens_order=False, open_orders=0) is None
    refusal = risk.check_submit(opens_order=True, open_orders=3)
    assert refusal is not None and refusal.reason is RefusalReason.OPEN_ORDERS
    assert risk.check_position(Decimal("0.9"), 1, Decimal("0.2")) is not None
    assert risk.check_position(Decimal("0.9"), -1, Decimal("0.2")) is None
    assert not risk.record_error() and not risk.record_error()
    assert risk.record_error() and risk.paused()
    clock.advance(11)
    assert not risk.paused()
    assert risk.check_drawdown(Decimal(-10)) is None
    assert risk.check_drawdown(Decimal(-51)) is not None
    refusal = risk.check_submit(opens_order=False, open_orders=0)
    assert refusal is not None and refusal.reason is RefusalReason.KILLED
