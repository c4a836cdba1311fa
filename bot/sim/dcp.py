"""Disconnection protection (DCP, docs/bybit-v5.md §4): cancel everything when the guard socket
dies.

``POST /v5/order/disconnected-cancel-all`` sets a time window per product; a private socket
subscribed to ``dcp.future`` (linear) or ``dcp.spot`` arms the guard. When the last such socket
is gone for the window, every open order of that category is cancelled with
``cancelType=CancelByDCP``, and the guard disarms until a socket subscribes again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.sim.instruments import Category

if TYPE_CHECKING:
    from bot.sim.engine import Exchange
    from bot.sim.wsconn import WsConnection

logger = logging.getLogger(__name__)

DEFAULT_WINDOW_S = 10.0
TOPICS = {Category.LINEAR: "dcp.future", Category.SPOT: "dcp.spot"}


class DcpGuard:
    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.window_s: dict[Category, float] = {}
        # category -> when its last dcp socket went away; None = armed and connected.
        self._lost_at: dict[Category, float | None] = {}

    def update(self, conns: Iterable[WsConnection]) -> None:
        """Call whenever private subscriptions change."""
        now = time.monotonic()
        private = [c for c in conns if c.channel == "private"]
        for category, topic in TOPICS.items():
            if any(topic in c.topics for c in private):
                self._lost_at[category] = None
            elif category in self._lost_at and self._lost_at[category] is None:
                self._lost_at[category] = now  # armed before, lost now: the clock starts

    def check(self) -> None:
        """Fire the guards whose window ran out."""
        now = time.monotonic()
        for category, lost_at in list(self._lost_at.items()):
            window = self.window_s.get(category, DEFAULT_WINDOW_S)
            if lost_at is not None and now - lost_at >= window:
                insts = [i for i in self.exchange.instruments.values() if i.category is category]
                cancelled = self.exchange.cancel_all(insts, cancel_type="CancelByDCP")
                logger.info("DCP fired for %s: %d orders cancelled", category, len(cancelled))
                del self._lost_at[category]
