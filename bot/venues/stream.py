"""One WebSocket connection's whole lifecycle, for every venue's streams.

The venue fills three hooks (cryptofeed's shape): :meth:`WsStream.on_open` (auth, subscribe),
:meth:`WsStream.on_message` (one parsed frame) and :meth:`WsStream.ping_message`. The base owns
the rest: connect, an app-level ping every ``ping_interval_s``, a silence watchdog that closes a
socket that sent nothing (not even a pong) for ``silence_timeout_s``, reconnect with
:class:`~bot.backoff.Backoff` (``min(base*2**n + jitter, max)``, reset once a connection is
usable), a cap on consecutive failures, and the seed's reconnect metrics. Only connection
faults reconnect: a bug in a hook propagates and stops the bot instead of looping.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from bot.backoff import Backoff, MaxAttemptsReached
from bot.clock import Clock, SystemClock
from bot.config import WsConfig
from bot.errors import StreamFatalError
from bot.metrics import BotMetrics

__all__ = ["StreamFatalError", "WsStream"]

logger = logging.getLogger(__name__)

_CONNECTION_FAULTS = (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidURI)


class WsStream:
    """Base connection handler; subclasses implement the hooks."""

    ws_type = "public"

    def __init__(
        self,
        url: str,
        cfg: WsConfig,
        metrics: BotMetrics,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self.cfg = cfg
        self.metrics = metrics
        self.clock = clock or SystemClock()
        self.backoff = Backoff(
            base_s=cfg.backoff_base_s,
            max_s=cfg.backoff_max_s,
            jitter=cfg.backoff_jitter,
            max_attempts=cfg.max_attempts,
            rng=rng or random.Random(),  # noqa: S311 (jitter, not crypto)
        )
        self.connected = asyncio.Event()
        self.last_message_s = 0.0
        self.connections = 0  # successful opens
        self.delays_s: deque[float] = deque(maxlen=1000)  # recent reconnect delays (tests)
        self._ws: ClientConnection | None = None
        attempts, delay, max_reached = metrics.for_ws(self.ws_type)
        self._m_attempts, self._m_delay, self._m_max = attempts, delay, max_reached
        self._m_connected = metrics.ws_connected.labels(ws_type=self.ws_type)
        self._m_messages = metrics.ws_messages.labels(ws_type=self.ws_type)

    # ---- hooks ----------------------------------------------------------------------------
    async def on_open(self, ws: ClientConnection) -> None:
        """Authenticate and subscribe; raise StreamFatalError if the venue refuses."""

    def on_message(self, message: dict[str, Any], received_s: float) -> None:
        """Handle one frame (already parsed)."""

    def on_close(self) -> None:
        """The connection is gone (state that depended on it is now stale)."""

    def ping_message(self) -> bytes:
        return b'{"op":"ping"}'

    # ---- helpers for hooks ----------------------------------------------------------------
    async def send(self, message: dict[str, Any]) -> None:
        if self._ws is not None:
            await self._ws.send(orjson.dumps(message).decode())

    async def request_resync(self) -> None:
        """Drop the connection; the run loop reconnects and resubscribes."""
        if self._ws is not None:
            await self._ws.close(code=1000, reason="resync")

    # ---- the loop -------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Connect and reconnect until ``stop`` is set; raise StreamFatalError on a fatal."""
        first = True
        while not stop.is_set():
            if not first:
                try:
                    delay_s = self.backoff.next_delay()
                except MaxAttemptsReached:
                    self._m_max.inc()
                    raise StreamFatalError(
                        f"{self.ws_type} stream: gave up after {self.backoff.attempt} attempts"
                    ) from None
                self.delays_s.append(delay_s)
                self._m_delay.set(delay_s)
                self._m_attempts.inc()
                logger.info("%s stream reconnecting in %.2fs", self.ws_type, delay_s)
                if await _wait(stop, delay_s, self.clock):
                    return
            first = False
            reason = await self._session(stop)
            if reason != "stopped":
                self.metrics.ws_drops.labels(ws_type=self.ws_type, reason=reason).inc()

    async def _session(self, stop: asyncio.Event) -> str:
        """One connection from open to close; returns why it ended."""
        try:
            async with connect(
                self.url,
                open_timeout=self.cfg.connect_timeout_s,
                ping_interval=None,  # app-level JSON pings, as Bybit asks
                close_timeout=2,
                max_size=2**22,
            ) as ws:
                self._ws = ws
                await self.on_open(ws)
                self.last_message_s = self.clock.monotonic()
                self.connections += 1
                self.connected.set()
                self._m_connected.set(1)
                self.backoff.reset()
                logger.info("%s stream connected (%d)", self.ws_type, self.connections)
                return await self._pump(ws, stop)
        except _CONNECTION_FAULTS as exc:
            logger.warning("%s stream lost: %s", self.ws_type, type(exc).__name__)
            return "error"
        finally:
            self._ws = None
            if self.connected.is_set():
                self.connected.clear()
                self._m_connected.set(0)
                self.on_close()

    async def _pump(self, ws: ClientConnection, stop: asyncio.Event) -> str:
        closer = asyncio.ensure_future(_close_on(stop, ws))
        pinger = asyncio.ensure_future(self._ping_loop(ws))
        try:
            while True:
                try:
                    async with asyncio.timeout(self.cfg.silence_timeout_s):
                        frame = await ws.recv()
                except TimeoutError:
                    logger.warning(
                        "%s stream silent for %.1fs: closing",
                        self.ws_type,
                        self.cfg.silence_timeout_s,
                    )
                    return "silence"
                except ConnectionClosed as exc:
                    if stop.is_set():
                        return "stopped"
                    code = exc.rcvd.code if exc.rcvd else 1006
                    logger.warning("%s stream closed (%s)", self.ws_type, code)
                    return "closed"
                now_s = self.clock.monotonic()
                self.last_message_s = now_s
                self._m_messages.inc()
                self.on_message(orjson.loads(frame), now_s)
                # Let what the hook started (order requests) run before the next frame, which
                # may already be buffered (recv would then return without yielding).
                await asyncio.sleep(0)
        finally:
            closer.cancel()
            pinger.cancel()
            await asyncio.gather(closer, pinger, return_exceptions=True)

    async def _ping_loop(self, ws: ClientConnection) -> None:
        while True:
            await self.clock.sleep(self.cfg.ping_interval_s)
            try:
                await ws.send(self.ping_message().decode())
            except ConnectionClosed:
                return


async def _close_on(stop: asyncio.Event, ws: ClientConnection) -> None:
    await stop.wait()
    await ws.close(code=1000, reason="shutdown")


async def _wait(stop: asyncio.Event, delay_s: float, clock: Clock) -> bool:
    """Sleep ``delay_s`` unless ``stop`` is set first; True if stopping."""
    sleeper = asyncio.ensure_future(clock.sleep(delay_s))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((sleeper, stopper), return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        stopper.cancel()
        await asyncio.gather(sleeper, stopper, return_exceptions=True)
    return stop.is_set()
