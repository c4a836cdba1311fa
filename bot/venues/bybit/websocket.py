"""Bybit v5's two streams as :class:`~bot.venues.stream.WsStream` hooks (docs/bybit-v5.md §7).

* :class:`PublicStream`: subscribes ``orderbook.{depth}.{symbol}`` and hands every book push to
  a callback as a :class:`~bot.domain.BookUpdate`; :meth:`PublicStream.resubscribe` (after
  a ``u`` gap) unsubscribes and subscribes again, which makes the venue send a fresh snapshot
  without dropping the socket.
* :class:`PrivateStream`: authenticates (``GET/realtime{expires}`` signature), subscribes
  ``order``, ``execution`` and ``position`` and routes their ``data`` lists, as domain types
  of the configured symbol, to callbacks.
A refused auth or subscription is fatal (:class:`~bot.errors.StreamFatalError`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection

from bot.bybit_v5.schemas import ExecutionItem, OrderItem, PositionItem
from bot.bybit_v5.signing import sign_ws_auth
from bot.common.secrets import Credentials
from bot.config import WsConfig
from bot.domain import Instrument
from bot.errors import StreamFatalError
from bot.metrics import BotMetrics
from bot.venues.base import BookHandler, FillsHandler, OrdersHandler, PositionsHandler
from bot.venues.bybit import schemas
from bot.venues.stream import WsStream

logger = logging.getLogger(__name__)

_req_ids = itertools.count(1)
AUTH_TIMEOUT_S = 10.0


def _check_ack(message: dict[str, Any], ws_type: str) -> None:
    if message.get("op") in ("subscribe", "unsubscribe") and message.get("success") is False:
        raise StreamFatalError(f"{ws_type} {message['op']} refused: {message.get('ret_msg', '')}")


class PublicStream(WsStream):
    ws_type = "public"

    def __init__(
        self,
        url: str,
        cfg: WsConfig,
        metrics: BotMetrics,
        *,
        symbol: str,
        on_book: BookHandler,
        on_reset: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(url, cfg, metrics, **kwargs)
        self.topic = f"orderbook.{cfg.depth}.{symbol}"
        self._on_book = on_book
        self._on_reset = on_reset
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_open(self, ws: ClientConnection) -> None:
        await self.send({"op": "subscribe", "req_id": str(next(_req_ids)), "args": [self.topic]})

    def on_message(self, message: dict[str, Any], received_s: float) -> None:
        if message.get("topic") == self.topic:
            self._on_book(schemas.book_update(message), received_s)
        else:
            _check_ack(message, self.ws_type)

    def on_close(self) -> None:
        if self._on_reset is not None:
            self._on_reset()

    def resubscribe(self) -> None:
        """Ask for a fresh snapshot on the same socket (after a book anomaly)."""
        task = asyncio.get_running_loop().create_task(self._resubscribe())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resubscribe(self) -> None:
        try:
            await self.send(
                {"op": "unsubscribe", "req_id": str(next(_req_ids)), "args": [self.topic]}
            )
            await self.send(
                {"op": "subscribe", "req_id": str(next(_req_ids)), "args": [self.topic]}
            )
        except Exception as exc:  # socket gone mid-send: the run loop reconnects anyway
            logger.info("resubscribe failed (%s); reconnect will resync", type(exc).__name__)


class PrivateStream(WsStream):
    ws_type = "private"
    topics = ("order", "execution", "position")

    def __init__(
        self,
        url: str,
        cfg: WsConfig,
        metrics: BotMetrics,
        *,
        credentials: Credentials,
        now_ms: Callable[[], int],
        instrument: Instrument,
        on_orders: OrdersHandler,
        on_fills: FillsHandler,
        on_positions: PositionsHandler,
        **kwargs: Any,
    ) -> None:
        super().__init__(url, cfg, metrics, **kwargs)
        self._creds = credentials
        self._now_ms = now_ms
        self._instrument = instrument
        self._symbol = instrument.symbol
        self._on_orders = on_orders
        self._on_fills = on_fills
        self._on_positions = on_positions

    async def on_open(self, ws: ClientConnection) -> None:
        expires = self._now_ms() + 10_000
        key = self._creds.api_key.reveal()
        signature = sign_ws_auth(self._creds.api_secret.reveal(), expires)
        await self.send({"req_id": "auth", "op": "auth", "args": [key, expires, signature]})
        async with asyncio.timeout(AUTH_TIMEOUT_S):
            while True:
                reply = orjson.loads(await ws.recv())
                if reply.get("op") == "auth":
                    break
        if not reply.get("success"):
            raise StreamFatalError(f"private auth refused: {reply.get('ret_msg', '')}")
        await self.send(
            {"op": "subscribe", "req_id": str(next(_req_ids)), "args": list(self.topics)}
        )

    def on_message(self, message: dict[str, Any], received_s: float) -> None:
        topic = message.get("topic", "")
        data: list[Any] = message.get("data") or []
        mine = [item for item in data if item.get("symbol") == self._symbol]
        if topic == "order":
            items: list[OrderItem] = mine
            self._on_orders([schemas.order(i, self._instrument) for i in items])
        elif topic == "execution":
            execs: list[ExecutionItem] = mine
            fills = [schemas.execution(i) for i in execs]
            self._on_fills([f for f in fills if f is not None])
        elif topic == "position":
            positions: list[PositionItem] = mine
            self._on_positions([schemas.position(i) for i in positions])
        else:
            _check_ack(message, self.ws_type)
