"""The simulator's WebSocket endpoints: public ``/v5/public/{linear,spot}`` and ``/v5/private``.

Ops and reply shapes per channel follow docs/bybit-v5.md §7: ``ping`` (pong shapes differ for
spot, linear and private), ``subscribe`` / ``unsubscribe`` (one unknown topic fails the whole
batch with ``error:handler not found,topic:...``), private ``auth`` (``expires > now``, HMAC of
``GET/realtime{expires}``). Streams: ``orderbook`` (:mod:`bot.sim.bookfeed`), ``publicTrade``,
``tickers``, and private ``order``, ``execution``, ``position``, ``wallet`` (plus categorised
variants). Clients that send nothing for the idle timeout are closed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import string
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from bot.sim.auth import RestAuthenticator
from bot.sim.bookfeed import BookFeed, BookTopic
from bot.sim.config import SimConfig
from bot.sim.dcp import DcpGuard
from bot.sim.engine import Exchange
from bot.sim.instruments import Category, Instrument
from bot.sim.tickers import TickerFeed
from bot.sim.wire import ascii_int, dumps, note_unknown
from bot.sim.ws_trade import TradeGateway
from bot.sim.wsconn import WsConnection

logger = logging.getLogger(__name__)

PRIVATE_TOPICS = {
    "order",
    "order.linear",
    "order.spot",
    "execution",
    "execution.linear",
    "execution.spot",
    "position",
    "position.linear",
    "wallet",
    "dcp.future",
    "dcp.spot",
    "greeks",
}
SPOT_MAX_ARGS = 10
MAX_FRAME_BYTES = 32 * 1024


class WsHub:
    """Connections, subscriptions and fan-out for every WebSocket channel."""

    def __init__(self, exchange: Exchange, auth: RestAuthenticator, config: SimConfig) -> None:
        self.exchange = exchange
        self.auth = auth
        self.config = config
        self.clock = exchange.clock
        self._rng = random.Random(config.seed ^ 0xC0)  # noqa: S311 (seeded, not crypto)
        self.feeds: dict[Category, BookFeed] = {}
        self.trade_subs: dict[str, set[WsConnection]] = {}
        self.tickers = TickerFeed(exchange)
        self.instruments: dict[Category, dict[str, Instrument]] = {}
        for category in Category:
            markets = {k[1]: m for k, m in exchange.markets.items() if k[0] is category}
            self.feeds[category] = BookFeed(markets, self.clock, repush_s=config.level1_repush_s)
            self.instruments[category] = {s: m.inst for s, m in markets.items()}
            for symbol in markets:
                self.trade_subs[f"{category}:publicTrade.{symbol}"] = set()
        self.conns: set[WsConnection] = set()
        self.dcp = DcpGuard(exchange)
        self.stats: dict[str, int] = {
            "ws_connections_total": 0,
            "ws_frames_received": 0,
            "internal_errors": 0,
        }
        self.trade: TradeGateway | None = None  # /v5/trade order entry, set by the server
        # More public topics (e.g. klines): objects with owns / subscribe / unsubscribe.
        self.topic_feeds: list[Any] = []
        self.unknown_topics: Counter[str] = Counter()  # what clients asked for, not served
        exchange.on_private = self.push_private
        exchange.on_trades = self.push_trades

    # --- connections -------------------------------------------------------------------------

    def _conn_id(self) -> str:
        alphabet = string.ascii_lowercase + string.digits
        return "".join(self._rng.choices(alphabet, k=20)) + f"-{len(self.conns) % 36:x}"

    def handler(self, channel: str) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._serve(request, channel)

        return handle

    async def _serve(self, request: web.Request, channel: str) -> web.StreamResponse:
        # compress=False: frames are written pre-framed by WsConnection (no permessage-deflate).
        ws = web.WebSocketResponse(autoping=False, max_msg_size=MAX_FRAME_BYTES, compress=False)
        await ws.prepare(request)
        private = channel in ("private", "trade")
        idle_s = (
            self.config.private_idle_timeout_s if private else self.config.public_idle_timeout_s
        )
        if private:
            idle_s = _max_active_time(request.query.get("max_active_time"), idle_s)
        conn = WsConnection(
            ws,
            request,
            channel=channel,
            conn_id=self._conn_id(),
            latency_s=self.config.ws_latency_ms / 1000.0,
            max_queue=self.config.ws_max_queue,
            idle_timeout_s=idle_s,
        )
        self.conns.add(conn)
        self.stats["ws_connections_total"] += 1
        try:
            async for msg in ws:
                conn.last_rx = time.monotonic()
                self.stats["ws_frames_received"] += 1
                if msg.type is WSMsgType.TEXT:
                    try:
                        self._on_text(conn, msg.data)
                    except Exception:  # a bug must not take the socket down silently
                        self.stats["internal_errors"] += 1
                        logger.exception("ws %s: error handling a frame", conn.conn_id)
                elif msg.type is WSMsgType.PING:
                    if not conn.stalled:
                        await ws.pong(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    self._reply_error(conn, "", "error:binary frames are not supported")
                elif msg.type is WSMsgType.ERROR:
                    break
        except (ConnectionError, RuntimeError):
            pass
        finally:
            self._drop(conn)
            conn.stop()
        return ws

    def _drop(self, conn: WsConnection) -> None:
        self.conns.discard(conn)
        if self.trade is not None:
            self.trade.forget(conn)
        for topic in list(conn.topics):
            self._unsubscribe_topic(conn, topic)
        self._count_private_listeners()

    def _count_private_listeners(self) -> None:
        self.dcp.update(self.conns)
        self.exchange.private_listeners = sum(
            1 for c in self.conns if c.channel == "private" and c.api_key and c.topics
        )

    # --- inbound -----------------------------------------------------------------------------

    def _on_text(self, conn: WsConnection, text: str) -> None:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            self._reply_error(conn, "", "error:invalid json")
            return
        if not isinstance(message, dict):
            self._reply_error(conn, "", "error:invalid request")
            return
        if conn.channel == "trade" and self.trade is not None:
            self.trade.on_message(conn, message)
            return
        op = message.get("op")
        req_id = message.get("req_id")
        req_id = req_id if isinstance(req_id, str | int) and not isinstance(req_id, bool) else ""
        if op == "ping":
            self._pong(conn, str(req_id))
        elif op == "auth" and conn.channel == "private":
            self._auth(conn, str(req_id), message.get("args"))
        elif op in ("subscribe", "unsubscribe"):
            self._subscribe(conn, op, str(req_id), message.get("args"))
        else:
            self._reply_error(
                conn, str(req_id), f"error:handler not found,op:{op}"[:200], op=str(op)[:50]
            )

    def _pong(self, conn: WsConnection, req_id: str) -> None:
        if conn.channel == "private":
            reply: dict[str, Any] = {
                "req_id": req_id,
                "op": "pong",
                "args": [str(self.clock.now_ms())],
                "conn_id": conn.conn_id,
            }
        elif conn.channel == "spot":
            reply = {"success": True, "ret_msg": "pong", "conn_id": conn.conn_id, "op": "ping"}
            if req_id:
                reply["req_id"] = req_id
        else:
            reply = {
                "success": True,
                "ret_msg": "pong",
                "conn_id": conn.conn_id,
                "req_id": req_id,
                "op": "ping",
            }
        conn.send(dumps(reply))

    def _reply(self, conn: WsConnection, op: str, req_id: str, *, ok: bool, msg: str) -> None:
        reply: dict[str, Any] = {"success": ok, "ret_msg": msg, "conn_id": conn.conn_id, "op": op}
        if req_id or conn.channel == "linear":
            reply["req_id"] = req_id
        conn.send(dumps(reply))

    def _reply_error(self, conn: WsConnection, req_id: str, msg: str, op: str = "") -> None:
        self._reply(conn, op, req_id, ok=False, msg=msg)

    def _auth(self, conn: WsConnection, req_id: str, args: object) -> None:
        if conn.api_key is not None:
            self._reply(conn, "auth", req_id, ok=False, msg="Request repeated")
            return
        try:
            conn.api_key = self.auth.verify_ws(args, self.clock.now_ms())
        except ValueError as exc:
            self._reply(conn, "auth", req_id, ok=False, msg=str(exc))
            return
        self._reply(conn, "auth", req_id, ok=True, msg="")

    def _valid_topic(self, conn: WsConnection, topic: str) -> bool:
        if any(feed.owns(conn.channel, topic) for feed in self.topic_feeds):
            return True
        if conn.channel == "private":
            return topic in PRIVATE_TOPICS
        category = Category(conn.channel)
        name, _, symbol = topic.rpartition(".")
        if name in ("publicTrade", "tickers"):
            return symbol in self.instruments[category]
        return topic in self.feeds[category].topics

    def _subscribe(self, conn: WsConnection, op: str, req_id: str, args: object) -> None:
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            self._reply(conn, op, req_id, ok=False, msg="error:args must be a non-empty list")
            return
        if conn.channel == "private" and conn.api_key is None:
            self._reply(conn, op, req_id, ok=False, msg="Request not authorized")
            return
        if conn.channel == "spot" and len(args) > SPOT_MAX_ARGS:
            self._reply(conn, op, req_id, ok=False, msg="error:args size >10")
            return
        for topic in args:
            if not self._valid_topic(conn, topic):
                note_unknown(self.unknown_topics, f"{conn.channel}:{topic[:100]}", "topic")
                self._reply(
                    conn, op, req_id, ok=False, msg=f"error:handler not found,topic:{topic[:100]}"
                )
                return
        # The private channel takes a repeated topic quietly (ccxt re-subscribes ``order`` per
        # symbol it watches, which works on Bybit); public channels refuse it.
        if op == "subscribe" and conn.channel != "private":
            duplicate = next((t for t in args if t in conn.topics), None)
            if duplicate is not None:
                self._reply(
                    conn, op, req_id, ok=False, msg=f"error:already subscribed,topic:{duplicate}"
                )
                return
        # The ack goes first, then the first snapshot(s), as on the exchange.
        self._reply(conn, op, req_id, ok=True, msg="subscribe" if conn.channel == "spot" else "")
        for topic in dict.fromkeys(args):
            if op == "subscribe":
                self._subscribe_topic(conn, topic)
            elif topic in conn.topics:
                self._unsubscribe_topic(conn, topic)
        if conn.channel == "private":
            self._count_private_listeners()

    def _book_topic(self, conn: WsConnection, topic: str) -> BookTopic | None:
        if conn.channel == "private":
            return None
        return self.feeds[Category(conn.channel)].topics.get(topic)

    def _subscribe_topic(self, conn: WsConnection, topic: str) -> None:
        conn.topics.add(topic)
        for feed in self.topic_feeds:
            if feed.owns(conn.channel, topic):
                feed.subscribe(conn.channel, topic, conn)
                return
        book_topic = self._book_topic(conn, topic)
        if book_topic is not None:
            self.feeds[Category(conn.channel)].subscribe(book_topic, conn)
            return
        key = f"{conn.channel}:{topic}"
        if key in self.trade_subs:
            self.trade_subs[key].add(conn)
        elif topic.startswith("tickers."):
            self.tickers.subscribe(Category(conn.channel), topic, conn)

    def _unsubscribe_topic(self, conn: WsConnection, topic: str) -> None:
        conn.topics.discard(topic)
        for feed in self.topic_feeds:
            if feed.owns(conn.channel, topic):
                feed.unsubscribe(conn.channel, topic, conn)
                return
        book_topic = self._book_topic(conn, topic)
        if book_topic is not None:
            self.feeds[Category(conn.channel)].unsubscribe(book_topic, conn)
            return
        key = f"{conn.channel}:{topic}"
        self.trade_subs.get(key, set()).discard(conn)
        if topic.startswith("tickers."):
            self.tickers.unsubscribe(Category(conn.channel), topic, conn)

    # --- outbound streams --------------------------------------------------------------------

    def push_trades(self, inst: Instrument, trades: list[dict[str, Any]]) -> None:
        subs = self.trade_subs.get(f"{inst.category}:publicTrade.{inst.symbol}")
        if not subs:
            return
        data = dumps(
            {
                "topic": f"publicTrade.{inst.symbol}",
                "type": "snapshot",
                "ts": self.clock.now_ms(),
                "data": trades,
            }
        )
        for conn in list(subs):
            conn.send(data)

    def push_private(self, topic: str, items: list[dict[str, Any]]) -> None:
        now = self.clock.now_ms()
        messages: dict[str, bytes] = {}
        for conn in list(self.conns):
            if conn.channel != "private" or conn.api_key is None:
                continue
            for sub in conn.topics:
                base, _, category = sub.partition(".")
                if base != topic:
                    continue
                data = messages.get(sub)
                if data is None:
                    chosen = [i for i in items if not category or i.get("category") == category]
                    data = (
                        dumps(
                            {
                                "id": f"{self._rng.getrandbits(64):x}",
                                "topic": sub,
                                "creationTime": now,
                                "data": chosen,
                            }
                        )
                        if chosen
                        else b""
                    )
                    messages[sub] = data
                if data:
                    conn.send(data)

    # --- faults and housekeeping -------------------------------------------------------------

    def drop_all(self) -> bool:
        conns = list(self.conns)
        for conn in conns:
            conn.abort()
        return bool(conns)

    def stall_all(self, duration_s: float) -> bool:
        for conn in self.conns:
            conn.stall(duration_s)
        return bool(self.conns)

    async def close_idle(self) -> None:
        now = time.monotonic()
        for conn in [c for c in self.conns if now - c.last_rx > c.idle_timeout_s]:
            logger.info("ws %s idle for %.0f s: closing", conn.conn_id, now - conn.last_rx)
            await conn.close()

    async def close_all(self) -> None:
        """Close every socket at once (each gives its peer at most 1 s, then is aborted)."""
        await asyncio.gather(*(conn.close() for conn in list(self.conns)), return_exceptions=True)


def _max_active_time(raw: str | None, default_s: float) -> float:
    """Private ``?max_active_time=`` (``30s``..``600s`` or ``1m``..``10m``), else ``default_s``."""
    if not raw:
        return default_s
    unit = raw[-1:]
    number = raw[:-1]
    value = ascii_int(number, 4)
    if value is None or unit not in ("s", "m"):
        return default_s
    seconds = value * (60 if unit == "m" else 1)
    return float(min(600, max(30, seconds)))
