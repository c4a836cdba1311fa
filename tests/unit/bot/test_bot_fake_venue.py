"""A second venue in a few dozen lines: a tiny in-memory exchange implementing
:class:`~bot.venues.base.ExchangeConnector`, registered for this test only, runs the unchanged
runner, strategy, order manager and ledger end to end (quote both sides, fill, stop with
everything cancelled). It stands in for an exchange that cannot run here; the Bybit venue
itself is tested against the real simulator in tests/integration/bot.

Also: the venue registry matches the packages under ``bot/venues/`` and every registered venue
builds from the default configuration.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

import bot.venues
from bot.clock import SystemClock
from bot.common.secrets import Credentials, Secret
from bot.config import BotConfig
from bot.domain import (
    BookUpdate,
    Fill,
    Instrument,
    LimitOrder,
    OrderStatus,
    OrderUpdate,
    Position,
    Side,
)
from bot.errors import OrderNotFoundError
from bot.metrics import BotMetrics
from bot.runner import Bot
from bot.venues import registry
from bot.venues.base import (
    BookHandler,
    ExchangeConnector,
    FillsHandler,
    MarketStream,
    OrdersHandler,
    PositionsHandler,
    Stream,
    VenueContext,
)

PAIR = Instrument(
    symbol="ABCXYZ",
    tick_size=Decimal("0.5"),
    qty_step=Decimal("0.01"),
    min_qty=Decimal("0.01"),
    max_qty=Decimal(100),
    min_notional=Decimal(0),
)


class _UserStream:
    def __init__(self, venue: MemoryVenue) -> None:
        self.venue = venue
        self.connected = asyncio.Event()
        self.last_message_s = 0.0
        self.connections = 0

    async def run(self, stop: asyncio.Event) -> None:
        self.connections += 1
        self.connected.set()
        await stop.wait()
        self.connected.clear()


class _MarketStream(_UserStream):
    """A touch walking up and down one tick; every few updates the venue fills an order."""

    def __init__(self, venue: MemoryVenue, on_book: BookHandler) -> None:
        super().__init__(venue)
        self.on_book = on_book
        self.resubscribes = 0

    def resubscribe(self) -> None:
        self.resubscribes += 1

    async def request_resync(self) -> None:
        self.resubscribes += 1

    async def run(self, stop: asyncio.Event) -> None:
        self.connections += 1
        self.connected.set()
        loop = asyncio.get_running_loop()
        self.on_book(BookUpdate("ABCXYZ", True, 1, [["100.0", "5"]], [["101.0", "5"]]), 0.0)
        for u in itertools.count(2):
            if stop.is_set():
                break
            bid = "100.0" if u % 2 else "100.5"
            update = BookUpdate("ABCXYZ", False, u, [[bid, "5"]], [["101.0", "5"]])
            self.last_message_s = loop.time()
            self.on_book(update, loop.time())
            if u % 5 == 0:
                self.venue.fill_oldest()
            await asyncio.sleep(0.01)
        self.connected.clear()


class MemoryVenue(ExchangeConnector):
    name = "memory"

    def __init__(self, ctx: VenueContext) -> None:
        self.ctx = ctx
        self.resting: dict[str, LimitOrder] = {}
        self.placed: list[LimitOrder] = []
        self.position_size = Decimal(0)
        self._ids = itertools.count(1)
        self._on_orders: OrdersHandler = lambda _u: None
        self._on_fills: FillsHandler = lambda _f: None
        self._on_positions: PositionsHandler = lambda _p: None

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def now_ms(self) -> int:
        return int(self.ctx.clock.time() * 1000)

    async def load_instrument(self) -> Instrument:
        return PAIR

    def _update(self, order: LimitOrder, status: OrderStatus) -> OrderUpdate:
        filled = order.qty if status is OrderStatus.FILLED else Decimal(0)
        return OrderUpdate(
            "ABCXYZ", order.client_id, f"o-{order.client_id}", status, order.side,
            order.price_ticks, order.qty, filled,
        )  # fmt: skip

    async def place(self, order: LimitOrder) -> str:
        self.resting[order.client_id] = order
        self.placed.append(order)
        asyncio.get_running_loop().call_soon(
            self._on_orders, [self._update(order, OrderStatus.NEW)]
        )
        return f"o-{order.client_id}"

    async def amend(self, client_id: str, price_ticks: int, qty: Decimal) -> None:
        old = self.resting.get(client_id)
        if old is None:
            raise OrderNotFoundError(1, "no such order", "amend")
        self.resting[client_id] = LimitOrder(client_id, old.side, price_ticks, qty)

    async def cancel(self, *, client_id: str = "", order_id: str = "") -> None:
        order = self.resting.pop(client_id or order_id.removeprefix("o-"), None)
        if order is None:
            raise OrderNotFoundError(1, "no such order", "cancel")
        self._on_orders([self._update(order, OrderStatus.CANCELLED)])

    async def request_cancel_all(self) -> None:
        for client_id in list(self.resting):
            await self.cancel(client_id=client_id)

    async def open_orders(self) -> list[OrderUpdate]:
        return [self._update(o, OrderStatus.NEW) for o in self.resting.values()]

    async def order(self, client_id: str) -> OrderUpdate | None:
        found = self.resting.get(client_id)
        return self._update(found, OrderStatus.NEW) if found else None

    async def fills_since(self, since_ms: int) -> list[Fill]:
        return []

    async def position(self) -> Position | None:
        return Position("ABCXYZ", self.position_size)

    def fill_oldest(self) -> None:
        if not self.resting:
            return
        order = self.resting.pop(next(iter(self.resting)))
        price = order.price_ticks * PAIR.tick_size
        self.position_size += order.side.sign * order.qty
        fee = -(order.qty * price * Decimal("0.0001"))
        fill = Fill(
            f"x{next(self._ids)}", "ABCXYZ", order.side, order.qty, price, fee, maker=True,
            client_id=order.client_id,
        )  # fmt: skip
        self._on_orders([self._update(order, OrderStatus.FILLED)])
        self._on_fills([fill])
        self._on_positions([Position("ABCXYZ", self.position_size)])

    def market_stream(
        self, on_book: BookHandler, on_reset: Callable[[], None] | None = None
    ) -> MarketStream:
        return _MarketStream(self, on_book)

    def user_stream(
        self, on_orders: OrdersHandler, on_fills: FillsHandler, on_positions: PositionsHandler
    ) -> Stream:
        self._on_orders, self._on_fills, self._on_positions = on_orders, on_fills, on_positions
        return _UserStream(self)


def test_runner_strategy_and_order_manager_trade_on_an_in_memory_venue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    venues: list[MemoryVenue] = []

    def build(ctx: VenueContext) -> MemoryVenue:
        venues.append(MemoryVenue(ctx))
        return venues[-1]

    monkeypatch.setitem(registry.VENUES, "memory", build)
    cfg = BotConfig.model_validate(
        {
            "exchange": {"venue": "memory", "name": "memory", "symbol": "ABCXYZ"},
            "metrics": {"port": 0},
            "strategy": {"order_qty": "0.01"},
            "risk": {"max_position": "0.05", "max_submits_per_s": 100},
            "shutdown_timeout_s": 15,
        }
    )
    bot = Bot(cfg, Credentials(Secret("k" * 8), Secret("s" * 8), "test"))

    async def main() -> int:
        run = asyncio.ensure_future(bot.run())
        for _ in range(1000):  # up to 10 s
            orders = bot.orders
            if orders is not None and orders.ledger.fills >= 4:
                break
            await asyncio.sleep(0.01)
        bot.request_stop("test done")
        return await asyncio.wait_for(run, 20)

    code = asyncio.run(main())
    assert code == 0, bot.stop_reason
    venue = venues[0]
    assert bot.orders is not None and bot.orders.ledger.fills >= 4
    assert {o.side for o in venue.placed} == {Side.BUY, Side.SELL}
    assert all(o.price_ticks in (200, 201, 202) for o in venue.placed)  # ticks of 0.5
    assert bot.orders.ledger.position == venue.position_size
    assert bot.orders.ledger.rebates > 0
    assert venue.resting == {}  # shutdown cancelled everything and confirmed it


def test_registry_matches_venue_packages_and_each_builds() -> None:
    root = Path(bot.venues.__file__).parent
    on_disk = {p.parent.name for p in root.glob("*/__init__.py")}
    assert set(registry.VENUES) == on_disk
    cfg = BotConfig()
    ctx = VenueContext(cfg, None, BotMetrics(), SystemClock())
    for name in registry.VENUES:
        venue = registry.build_venue(name, ctx)
        assert isinstance(venue, ExchangeConnector) and venue.name == name
    with pytest.raises(registry.UnknownVenueError, match="known: bybit"):
        registry.build_venue("nope", ctx)
