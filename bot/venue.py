"""What the bot asks the exchange about its symbol over REST, as wire items (no local state).

Used by the order manager (reconciliation, polling when the private stream is quiet, startup
and shutdown cancel-all) and by ``mmbot orders``. Open means ``New``, ``PartiallyFilled`` or
``Untriggered`` (bybit-v5.md §6).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.clock import Clock
from bot.connectors.errors import ExchangeError
from bot.connectors.rest import BybitRest, paged_list

logger = logging.getLogger(__name__)

OPEN_STATUSES = frozenset({"New", "PartiallyFilled", "Untriggered"})


class Venue:
    def __init__(self, rest: BybitRest, symbol: str, category: str, clock: Clock) -> None:
        self.rest = rest
        self.symbol = symbol
        self.category = category
        self.clock = clock

    def query(self) -> dict[str, Any]:
        return {"category": self.category, "symbol": self.symbol}

    async def open_orders(self) -> list[dict[str, Any]]:
        items = await paged_list(
            self.rest, "/v5/order/realtime", {**self.query(), "openOnly": 0, "limit": 50}
        )
        return [i for i in items if i.get("orderStatus") in OPEN_STATUSES]

    async def order(self, link_id: str) -> dict[str, Any] | None:
        """The venue's view of one of our orders (open or recently closed), if it knows it."""
        page = await self.rest.get("/v5/order/realtime", {**self.query(), "orderLinkId": link_id})
        found = [i for i in page.get("list") or [] if i.get("orderLinkId") == link_id]
        return found[0] if found else None

    async def executions_since(self, since_ms: int) -> list[dict[str, Any]]:
        """Our fills from ``since_ms`` on, oldest first (the newest 100)."""
        page = await self.rest.get(
            "/v5/execution/list", {**self.query(), "startTime": since_ms, "limit": 100}
        )
        items = [i for i in page.get("list") or [] if int(i.get("execTime") or 0) >= since_ms]
        items.sort(key=lambda i: int(i.get("execTime") or 0))
        return items

    async def position(self) -> dict[str, Any] | None:
        page = await self.rest.get("/v5/position/list", self.query())
        found = [i for i in page.get("list") or [] if i.get("symbol") == self.symbol]
        return found[0] if found else None

    async def cancel(self, *, order_id: str = "", link_id: str = "") -> None:
        which = {"orderId": order_id} if order_id else {"orderLinkId": link_id}
        await self.rest.post("/v5/order/cancel", {**self.query(), **which}, safe=True)

    async def cancel_all(self, timeout_s: float) -> int:
        """Cancel every open order on the symbol and poll until none remain.

        Returns how many were still open at the deadline, or -1 if the venue never answered.
        """
        deadline = self.clock.monotonic() + timeout_s
        remaining = -1
        while self.clock.monotonic() < deadline:
            try:
                await self.rest.post("/v5/order/cancel-all", self.query(), safe=True)
                await asyncio.sleep(0.2)
                remaining = len(await self.open_orders())
            except ExchangeError as exc:
                logger.warning("cancel-all: %s", exc)
                await asyncio.sleep(0.5)
                continue
            if remaining == 0:
                return 0
            await asyncio.sleep(0.5)
        return remaining
