"""The Bybit v5 connector: the bot's :class:`~bot.venues.base.ExchangeConnector` over
:class:`~bot.venues.bybit.http.BybitRest` and the two streams, for one symbol and category.

Orders are post-only limits identified by ``orderLinkId`` (our client id); open means ``New``,
``PartiallyFilled`` or ``Untriggered`` (docs/bybit-v5.md §6). Creates and amends are sent once
(a lost reply surfaces as :class:`~bot.errors.TransportError`); reads and cancels retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bot.bybit_v5.schemas import ExecutionItem, InstrumentItem, OrderItem, PositionItem
from bot.domain import Fill, Instrument, LimitOrder, OrderUpdate, Position
from bot.errors import ApiError, ConfigurationError
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
from bot.venues.bybit import schemas
from bot.venues.bybit.config import BybitSettings
from bot.venues.bybit.http import BybitRest, paged_list
from bot.venues.bybit.websocket import PrivateStream, PublicStream

logger = logging.getLogger(__name__)


class BybitConnector(ExchangeConnector):
    name = "bybit"

    def __init__(self, settings: BybitSettings, ctx: VenueContext) -> None:
        self.settings = settings
        self.symbol = settings.symbol
        self.category = settings.category
        self.ctx = ctx
        self.rest = BybitRest(
            settings.rest_url,
            ctx.credentials,
            settings.http,
            ctx.metrics,
            recv_window_ms=settings.recv_window_ms,
            category=settings.category,
            clock=ctx.clock,
        )
        self._instrument: Instrument | None = None

    # ---- lifecycle ------------------------------------------------------------------------
    async def open(self) -> None:
        await self.rest.__aenter__()

    async def close(self) -> None:
        await self.rest.close()

    def now_ms(self) -> int:
        return self.rest.now_ms()

    @property
    def instrument(self) -> Instrument:
        if self._instrument is None:
            raise RuntimeError("load_instrument() first")
        return self._instrument

    def _query(self) -> dict[str, Any]:
        return {"category": self.category, "symbol": self.symbol}

    async def load_instrument(self) -> Instrument:
        """A plain refusal of the listing request (retCode 10001 "symbol invalid", "Illegal
        category") or an empty listing is permanent: :class:`~bot.errors.ConfigurationError`."""
        await self.rest.sync_time()
        where = f"category {self.category} at {self.settings.rest_url}"
        try:
            info = await self.rest.get("/v5/market/instruments-info", self._query(), auth=False)
        except ApiError as exc:
            if type(exc) is not ApiError:  # busy, rate limited, clock: worth another try
                raise
            raise ConfigurationError(
                f"symbol {self.symbol} is not listed in {where} (retCode {exc.code}: {exc.reason})"
            ) from None
        items: list[InstrumentItem] = [
            i for i in info.get("list") or [] if i.get("symbol") == self.symbol
        ]
        if not items:
            raise ConfigurationError(f"symbol {self.symbol} is not listed in {where}")
        self._instrument = schemas.instrument(items[0])
        return self._instrument

    def use_instrument(self, instrument: Instrument) -> None:
        """Trade with filters known already (``mmbot orders`` needs no instrument round trip
        beyond this; tests)."""
        self._instrument = instrument

    # ---- orders ---------------------------------------------------------------------------
    async def place(self, order: LimitOrder) -> str:
        inst = self.instrument
        body = {
            **self._query(),
            "side": order.side.value,
            "orderType": "Limit",
            "qty": inst.qty_str(order.qty),
            "price": inst.ticks_to_price(order.price_ticks),
            "timeInForce": "PostOnly",
            "orderLinkId": order.client_id,
            "positionIdx": 0,
        }
        result = await self.rest.post("/v5/order/create", body, safe=False)
        return str(result.get("orderId", ""))

    async def amend(self, client_id: str, price_ticks: int, qty: Decimal) -> None:
        inst = self.instrument
        body = {
            **self._query(),
            "orderLinkId": client_id,
            "price": inst.ticks_to_price(price_ticks),
            "qty": inst.qty_str(qty),
        }
        await self.rest.post("/v5/order/amend", body, safe=False)

    async def cancel(self, *, client_id: str = "", order_id: str = "") -> None:
        which = {"orderId": order_id} if order_id else {"orderLinkId": client_id}
        await self.rest.post("/v5/order/cancel", {**self._query(), **which}, safe=True)

    async def request_cancel_all(self) -> None:
        await self.rest.post("/v5/order/cancel-all", self._query(), safe=True)

    # ---- state ----------------------------------------------------------------------------
    async def open_order_rows(self) -> list[dict[str, str]]:
        """Bybit's own rows, so ``mmbot orders`` prints the wire fields (docs/cli.md §8)."""
        return [{k: str(v) for k, v in i.items()} for i in await self.open_order_items()]

    async def open_order_items(self) -> list[OrderItem]:
        items: list[Any] = await paged_list(
            self.rest, "/v5/order/realtime", {**self._query(), "openOnly": 0, "limit": 50}
        )
        rows: list[OrderItem] = items
        return [i for i in rows if str(i.get("orderStatus")) in schemas.OPEN_STATUSES]

    async def open_orders(self) -> list[OrderUpdate]:
        return [schemas.order(i, self.instrument) for i in await self.open_order_items()]

    async def order(self, client_id: str) -> OrderUpdate | None:
        page = await self.rest.get(
            "/v5/order/realtime", {**self._query(), "orderLinkId": client_id}
        )
        items: list[OrderItem] = page.get("list") or []
        found = [i for i in items if i.get("orderLinkId") == client_id]
        return schemas.order(found[0], self.instrument) if found else None

    async def fills_since(self, since_ms: int) -> list[Fill]:
        """The newest 100 from ``since_ms`` on, oldest first."""
        page = await self.rest.get(
            "/v5/execution/list", {**self._query(), "startTime": since_ms, "limit": 100}
        )
        items: list[ExecutionItem] = page.get("list") or []
        fills = [schemas.execution(i) for i in items if int(i.get("execTime") or 0) >= since_ms]
        found = [f for f in fills if f is not None]
        found.sort(key=lambda f: f.time_ms)
        return found

    async def position(self) -> Position | None:
        page = await self.rest.get("/v5/position/list", self._query())
        items: list[PositionItem] = page.get("list") or []
        found = [i for i in items if i.get("symbol") == self.symbol]
        return schemas.position(found[0]) if found else None

    # ---- streams --------------------------------------------------------------------------
    def market_stream(
        self, on_book: BookHandler, on_reset: Callable[[], None] | None = None
    ) -> MarketStream:
        return PublicStream(
            self.settings.ws_public_url,
            self.settings.ws,
            self.ctx.metrics,
            symbol=self.symbol,
            on_book=on_book,
            on_reset=on_reset,
            clock=self.ctx.clock,
        )

    def user_stream(
        self, on_orders: OrdersHandler, on_fills: FillsHandler, on_positions: PositionsHandler
    ) -> Stream:
        if self.ctx.credentials is None:
            raise ConfigurationError("the private stream needs API credentials")
        return PrivateStream(
            self.settings.ws_private_url,
            self.settings.ws,
            self.ctx.metrics,
            credentials=self.ctx.credentials,
            now_ms=self.rest.now_ms,
            instrument=self.instrument,
            on_orders=on_orders,
            on_fills=on_fills,
            on_positions=on_positions,
            clock=self.ctx.clock,
        )
