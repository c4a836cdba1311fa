"""The quote gate in fake time: no quotes on a stale or invalid book or a down stream (live
quotes are pulled instead), quotes again once fresh; /healthz says why."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from types import SimpleNamespace

from bot.book import OrderBook
from bot.clock import FakeClock
from bot.common.secrets import Credentials, Secret
from bot.config import BotConfig
from bot.domain import BookUpdate
from bot.ledger import Ledger
from bot.runner import Bot
from bot.strategy import Action, Cancel, Create, LiveQuote, QuoteDecider, Side
from tests.unit.bot.conftest import BTC


class FakeOrders:
    """Stands in for OrderManager: records what the quote loop submits."""

    def __init__(self) -> None:
        self.instrument = BTC
        self.ledger = Ledger()
        self.submitted: list[Action] = []
        self.live = [LiveQuote("mm-1", Side.BUY, 0, 949990, Decimal("0.001"), busy=False)]

    def live_quotes(self) -> list[LiveQuote]:
        return self.live

    def submit(self, action: Action, _rx_s: float) -> None:
        self.submitted.append(action)


def _bot() -> tuple[Bot, FakeClock, FakeOrders]:
    clock = FakeClock()
    cfg = BotConfig.model_validate({"risk": {"book_stale_s": 2.0}})
    bot = Bot(cfg, Credentials(Secret("k" * 8), Secret("s" * 8), "test"), clock=clock)
    up = asyncio.Event()
    up.set()
    bot.public = SimpleNamespace(connected=up)  # type: ignore[assignment]
    bot.private = SimpleNamespace(connected=up)  # type: ignore[assignment]
    book = OrderBook("BTCUSDT", BTC.tick_parser())
    book.apply(
        BookUpdate("BTCUSDT", True, 5, [["95000.0", "1"]], [["95000.1", "1"]]), clock.monotonic()
    )
    bot.book = book
    orders = FakeOrders()
    bot.orders = orders  # type: ignore[assignment]
    bot.decider = QuoteDecider(cfg.strategy, cfg.risk, BTC)
    return bot, clock, orders


def test_stale_book_pulls_quotes_and_places_none() -> None:
    bot, clock, orders = _bot()
    clock.advance(2.5)
    bot.quote_once(0.0)
    assert orders.submitted == [Cancel("mm-1")]
    assert bot.health() == (False, "book stale")


def test_invalid_book_or_down_stream_blocks_quoting() -> None:
    bot, _clock, orders = _bot()
    assert bot.book is not None
    bot.book.invalidate()
    bot.quote_once(0.0)
    assert not any(isinstance(a, Create) for a in orders.submitted)
    assert bot.health() == (False, "book invalid")
    bot, _clock, orders = _bot()
    bot.private = SimpleNamespace(connected=asyncio.Event())  # type: ignore[assignment]
    bot.quote_once(0.0)
    assert orders.submitted == [Cancel("mm-1")]
    assert bot.health() == (False, "private stream down")


def test_fresh_book_quotes_both_sides() -> None:
    bot, _clock, orders = _bot()
    orders.live = []
    bot.quote_once(0.0)
    creates = [a for a in orders.submitted if isinstance(a, Create)]
    assert {(c.quote.side, c.quote.price_ticks) for c in creates} == {
        (Side.BUY, 950000),
        (Side.SELL, 950001),
    }
    assert bot.health() == (True, "quoting")


def test_drawdown_kill_switch_stops_the_bot_with_a_reason() -> None:
    bot, _clock, orders = _bot()
    orders.ledger.cash = -bot.cfg.risk.max_drawdown_quote - 1
    bot.quote_once(0.0)
    assert bot.stop.is_set() and bot.exit_code == 1
    assert bot.stop_reason.startswith("drawdown kill switch")
    assert not any(isinstance(a, Create) for a in orders.submitted)
    bot.quote_once(0.0)  # sticky: still no quoting
    assert bot.health() == (False, "kill switch")
