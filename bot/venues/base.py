"""The seam between the bot and an exchange: :class:`ExchangeConnector` and its two streams.

A connector is an async context manager (``async with venue:`` opens its HTTP session) bound
to one symbol. It answers in domain types (:mod:`bot.domain`) and raises domain errors
(:mod:`bot.errors`). Its streams push domain types to the callbacks the runner gives it and
share one shape (:class:`Stream`): ``run(stop)`` connects and reconnects until ``stop`` is set,
``connected`` is set while usable. :func:`cancel_all_confirmed` builds "cancel everything and
prove it" from the interface, so every venue gets it for free.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from bot.clock import Clock
from bot.common.secrets import Credentials
from bot.config import BotConfig
from bot.domain import BookUpdate, Fill, Instrument, LimitOrder, OrderUpdate, Position
from bot.errors import ExchangeError
from bot.metrics import BotMetrics

logger = logging.getLogger(__name__)

BookHandler = Callable[[BookUpdate, float], None]  # (update, received monotonic s)
OrdersHandler = Callable[[list[OrderUpdate]], None]
FillsHandler = Callable[[list[Fill]], None]
PositionsHandler = Callable[[list[Position]], None]


@dataclass(frozen=True, slots=True)
class VenueContext:
    """What building any venue needs."""

    cfg: BotConfig
    credentials: Credentials | None
    metrics: BotMetrics
    clock: Clock


class Stream(Protocol):
    connected: asyncio.Event
    last_message_s: float  # monotonic time of the last frame
    connections: int  # successful opens so far

    async def run(self, stop: asyncio.Event) -> None: ...


class MarketStream(Stream, Protocol):
    def resubscribe(self) -> None:
        """Ask for a fresh snapshot (after a book anomaly), keeping the connection if possible."""

    async def request_resync(self) -> None:
        """Drop the connection; ``run`` reconnects and a snapshot follows."""


class ExchangeConnector(ABC):
    """One venue, one symbol. Prices in ticks of :meth:`load_instrument`'s instrument."""

    name: str  # the registry key

    async def __aenter__(self) -> ExchangeConnector:
        await self.open()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @abstractmethod
    async def open(self) -> None:
        """Open sessions (no network round trip needed)."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def now_ms(self) -> int:
        """The venue's clock as best known (epoch ms)."""

    @abstractmethod
    async def load_instrument(self) -> Instrument:
        """Sync the clock and fetch the symbol's filters. :class:`~bot.errors.ConfigurationError`
        when the venue does not list the symbol; transport errors may be retried."""

    # ---- orders -------------------------------------------------------------------------------
    @abstractmethod
    async def place(self, order: LimitOrder) -> str:
        """Send a post-only limit order, once (never retried); the venue's order id."""

    @abstractmethod
    async def amend(self, client_id: str, price_ticks: int, qty: Decimal) -> None: ...

    @abstractmethod
    async def cancel(self, *, client_id: str = "", order_id: str = "") -> None:
        """Cancel one order (safe to retry)."""

    @abstractmethod
    async def request_cancel_all(self) -> None:
        """Ask the venue to cancel every open order on the symbol (not waiting for it)."""

    # ---- state --------------------------------------------------------------------------------
    @abstractmethod
    async def open_orders(self) -> list[OrderUpdate]: ...

    @abstractmethod
    async def order(self, client_id: str) -> OrderUpdate | None:
        """The venue's view of one of our orders (open or recently closed), if it knows it."""

    @abstractmethod
    async def fills_since(self, since_ms: int) -> list[Fill]:
        """Our fills from ``since_ms`` on, oldest first."""

    @abstractmethod
    async def position(self) -> Position | None: ...

    async def open_order_rows(self) -> list[dict[str, str]]:
        """Open orders for display (``mmbot orders``), in the venue's own field names where it
        has them; this default renders the domain view."""
        return [
            {
                "orderId": o.order_id,
                "orderLinkId": o.client_id,
                "side": o.side.value if o.side else "",
                "price_ticks": str(o.price_ticks),
                "qty": str(o.qty),
                "orderStatus": o.status.value,
            }
            for o in await self.open_orders()
        ]

    # ---- streams ------------------------------------------------------------------------------
    @abstractmethod
    def market_stream(
        self, on_book: BookHandler, on_reset: Callable[[], None] | None = None
    ) -> MarketStream:
        """The symbol's book as snapshots and deltas; ``on_reset`` when the connection drops."""

    @abstractmethod
    def user_stream(
        self, on_orders: OrdersHandler, on_fills: FillsHandler, on_positions: PositionsHandler
    ) -> Stream:
        """Our orders, fills and positions as they change (authenticated)."""


async def cancel_all_confirmed(venue: ExchangeConnector, clock: Clock, timeout_s: float) -> int:
    """Cancel every open order on the symbol and poll until none remain.

    Returns how many were still open at the deadline, or -1 if the venue never answered.
    """
    deadline = clock.monotonic() + timeout_s
    remaining = -1
    while clock.monotonic() < deadline:
        try:
            await venue.request_cancel_all()
            await asyncio.sleep(0.2)
            remaining = len(await venue.open_orders())
        except ExchangeError as exc:
            logger.warning("cancel-all: %s", exc)
            await asyncio.sleep(0.5)
            continue
        if remaining == 0:
            return 0
        await asyncio.sleep(0.5)
    return remaining
