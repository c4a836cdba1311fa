"""The running bot: wiring, the quote loop, housekeeping, health, and graceful shutdown.

Start: metrics endpoint, REST (clock offset, instrument filters), startup reconciliation
(position from the venue; every open order on the symbol is a stray of an earlier process and
is cancelled until none remain), then the public and private streams. Each book push wakes
the quote loop, which quotes only while the book is valid and fresh, both streams are up and
no breaker is open; otherwise it pulls its quotes. Stop (SIGTERM/SIGINT, CTRL_BREAK on
Windows, a fatal stream error or the kill switch): stop quoting, wait for requests in flight,
cancel all and confirm none remain, then close streams, REST and metrics. The whole stop is
bounded by ``shutdown_timeout_s`` (30 s), so the process exits well inside a 40 s grace.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from typing import Any

from bot.book import BookAnomaly, OrderBook
from bot.clock import Clock, SystemClock
from bot.common.secrets import Credentials
from bot.config import BotConfig
from bot.domain import BookUpdate, Instrument
from bot.errors import AuthError, ConfigurationError, ExchangeError, StreamFatalError
from bot.leak import leak_forever
from bot.metrics import BotMetrics, MetricsServer
from bot.orders import OrderManager
from bot.risk import RiskManager
from bot.strategy import Cancel, QuoteDecider
from bot.venues.base import ExchangeConnector, MarketStream, Stream, VenueContext
from bot.venues.registry import build_venue

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 30.0
AUTH_RETRY_S = 1.0
QUOTE_IDLE_S = 0.25  # re-check staleness this often even with no book push
HOUSEKEEPING_S = 0.5
STATUS_EVERY_S = 60.0


class BotStopped(Exception):
    """Stop before trading; ``exit_code`` 2 for a permanent configuration error (bad input)."""

    def __init__(self, reason: str, exit_code: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.exit_code = exit_code


class Bot:
    def __init__(
        self,
        cfg: BotConfig,
        credentials: Credentials,
        *,
        clock: Clock | None = None,
        inject_leak_mib_per_h: float = 0.0,
    ) -> None:
        self.cfg = cfg
        self.creds = credentials
        self.clock = clock or SystemClock()
        self.leak_rate = inject_leak_mib_per_h
        self.metrics = BotMetrics(cfg.exchange.name)
        self.stop = asyncio.Event()
        self.stop_reason = ""
        self.exit_code = 0
        self.stopping = False
        self.book: OrderBook | None = None
        self.orders: OrderManager | None = None
        self.public: MarketStream | None = None
        self.private: Stream | None = None
        self.risk = RiskManager(cfg.risk, self.clock)
        self._book_event = asyncio.Event()
        self._book_rx_s = 0.0
        self._block_reason = "starting"
        self._last_poll_s = 0.0
        self._last_status_s = 0.0
        self._private_connections = 0
        self._invalid_since_s = 0.0
        self._side_tasks: set[asyncio.Task[None]] = set()

    # ---- control ------------------------------------------------------------------------
    def request_stop(self, reason: str, exit_code: int = 0) -> None:
        if not self.stop.is_set():
            logger.log(logging.ERROR if exit_code else logging.INFO, "stopping: %s", reason)
            self.stop_reason, self.exit_code = reason, exit_code
            self.stop.set()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        if sys.platform == "win32":  # pragma: no cover - exercised on the Windows runner
            for name in ("SIGBREAK", "SIGINT"):
                signal.signal(
                    getattr(signal, name),
                    lambda *_: loop.call_soon_threadsafe(self.request_stop, "signal"),
                )
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, f"signal {sig.name}")

    def health(self) -> tuple[bool, str]:
        if self.stopping:
            return False, "stopping"
        return self._block_reason == "", self._block_reason or "quoting"

    # ---- main -----------------------------------------------------------------------------
    async def run(self) -> int:
        server = MetricsServer(
            self.metrics, self.health, self.cfg.metrics.host, self.cfg.metrics.port
        )
        try:
            await server.start()
        except OSError as exc:
            logger.error(
                "cannot serve metrics on %s:%d: %s",
                self.cfg.metrics.host,
                self.cfg.metrics.port,
                exc.strerror,
            )
            return 1
        venue = build_venue(
            self.cfg.exchange.venue, VenueContext(self.cfg, self.creds, self.metrics, self.clock)
        )
        try:
            async with venue:
                await self._trade(venue)
        except BotStopped as stopped:
            self.request_stop(stopped.reason, stopped.exit_code)
        finally:
            await server.stop()
        logger.info("stopped (%s), exit %d", self.stop_reason, self.exit_code)
        return self.exit_code

    async def _startup(self, venue: ExchangeConnector) -> Instrument:
        ex = self.cfg.exchange
        deadline = self.clock.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                return await venue.load_instrument()
            except ConfigurationError as exc:
                raise BotStopped(str(exc), 2) from None
            except ExchangeError as exc:
                if self.clock.monotonic() > deadline or self.stop.is_set():
                    raise BotStopped(f"cannot reach {ex.rest_url}: {exc}") from None
                logger.warning("exchange not reachable yet (%s); retrying", exc)
                await asyncio.sleep(1.0)

    async def _trade(self, venue: ExchangeConnector) -> None:
        instrument = await self._startup(venue)
        self.book = OrderBook(instrument.symbol, instrument.tick_parser())
        self.decider = QuoteDecider(self.cfg.strategy, self.cfg.risk, instrument)
        orders = self.orders = OrderManager(venue, instrument, self.metrics, self.risk, self.clock)
        try:
            await self._first_signed_call(orders)
            strays = len(await orders.open_on_venue())
            if strays:
                logger.warning("startup: %d open orders from an earlier run: cancelling", strays)
                left = await orders.cancel_all(10.0)
                orders.metrics.reconciliations.labels(outcome="stray_cancelled").inc(strays)
                if left:
                    raise BotStopped(f"startup: {left} stray orders could not be cancelled")
        except AuthError as exc:
            raise BotStopped(f"credentials refused: {exc}", 2) from None
        except ExchangeError as exc:
            raise BotStopped(f"startup reconciliation failed: {exc}") from None
        self._make_streams(venue, orders)
        # Everything allocated so far lives for the whole run: keep it out of the collector's
        # full scans, which would otherwise stall the quote path for milliseconds.
        gc.collect()
        gc.freeze()
        await self._supervise()

    async def _first_signed_call(self, orders: OrderManager) -> None:
        """The position, the first signed request: refused credentials get one retry (a key
        created a moment ago may not have propagated yet), then stop the bot as bad input."""
        try:
            await orders.sync_position(initial=True)
        except AuthError as exc:
            logger.warning("credentials refused (%s); retrying once", exc)
            await asyncio.sleep(AUTH_RETRY_S)
            await orders.sync_position(initial=True)

    def _make_streams(self, venue: ExchangeConnector, orders: OrderManager) -> None:
        self.public = venue.market_stream(self._on_book, self._on_book_reset)
        self.private = venue.user_stream(orders.on_orders, orders.on_fills, orders.on_positions)

    async def _supervise(self) -> None:
        assert self.public is not None and self.private is not None
        streams_stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        workers: dict[asyncio.Task[Any], str] = {
            loop.create_task(self.public.run(streams_stop)): "public stream",
            loop.create_task(self.private.run(streams_stop)): "private stream",
            loop.create_task(self._quote_loop()): "quote loop",
            loop.create_task(self._housekeeping()): "housekeeping",
        }
        if self.leak_rate > 0:
            workers[loop.create_task(leak_forever(self.leak_rate, self.metrics))] = "leak"
        stopper = loop.create_task(self.stop.wait())
        try:
            done, _ = await asyncio.wait([stopper, *workers], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper:
                    self._worker_ended(task, workers[task])
            await self._shutdown(streams_stop, workers)
        finally:
            stopper.cancel()
            for task in workers:
                task.cancel()
            await asyncio.gather(stopper, *workers, return_exceptions=True)

    def _worker_ended(self, task: asyncio.Task[Any], name: str) -> None:
        exc = task.exception()
        if isinstance(exc, StreamFatalError):
            self.request_stop(str(exc), 1)
        elif exc is not None:
            logger.error("%s crashed", name, exc_info=exc)
            self.request_stop(f"{name} crashed: {type(exc).__name__}", 1)
        else:
            self.request_stop(f"{name} ended", 1)

    async def _shutdown(self, streams_stop: asyncio.Event, workers: dict[Any, str]) -> None:
        assert self.orders is not None
        self.stopping = True
        self.metrics.quoting.set(0)
        try:
            async with asyncio.timeout(self.cfg.shutdown_timeout_s):
                await asyncio.wait_for(self.orders.drain(), 5.0)
                left = await self.orders.cancel_all(self.cfg.shutdown_timeout_s - 8.0)
                if left < 0:
                    logger.error("shutdown: could not confirm that no orders remain open")
                    self.exit_code = 1
                elif left:
                    logger.error("shutdown: %d orders still open on the exchange", left)
                    self.exit_code = 1
                else:
                    logger.info("shutdown: all orders cancelled, none open")
                streams_stop.set()
                await asyncio.wait(list(workers), timeout=3.0)
        except TimeoutError:
            logger.error("shutdown exceeded %.0fs", self.cfg.shutdown_timeout_s)
            self.exit_code = 1

    # ---- market data and quoting ------------------------------------------------------------
    def _on_book(self, update: BookUpdate, received_s: float) -> None:
        book = self.book
        assert book is not None
        try:
            book.apply(update, received_s)
        except BookAnomaly as anomaly:
            # Deltas still in flight after a resync request carry no news: the snapshot asked
            # for is on its way (and _watch_book reconnects if it never comes).
            if anomaly.reason != "no_snapshot":
                self.metrics.book_resyncs.labels(reason=anomaly.reason).inc()
                logger.warning("book resync: %s", anomaly)
                if self.public is not None:
                    self.public.resubscribe()
        self._book_rx_s = received_s
        if self.cfg.quote_on_book and not self.stopping and book.valid:
            self.quote_once(received_s)  # straight from the frame: no task switch
        else:
            self._book_event.set()

    def _on_book_reset(self) -> None:
        if self.book is not None:
            self.book.invalidate()
        self._book_event.set()

    def _blocked(self, now_s: float) -> str:
        book, public, private = self.book, self.public, self.private
        if self.stopping:
            return "stopping"
        if book is None or public is None or private is None:
            return "starting"
        if not public.connected.is_set():
            return "public stream down"
        if not private.connected.is_set():
            return "private stream down"
        if not book.valid or book.best_bid is None or book.best_ask is None:
            return "book invalid"
        if book.age_s(now_s) > self.cfg.risk.book_stale_s:
            return "book stale"
        if self.risk.kill_reason:
            return "kill switch"
        if self.risk.paused():
            return "error breaker"
        return ""

    async def _quote_loop(self) -> None:
        while not self.stopping:
            if self.cfg.quote_on_book:
                try:
                    async with asyncio.timeout(QUOTE_IDLE_S):
                        await self._book_event.wait()
                except TimeoutError:
                    pass
            else:
                await asyncio.sleep(QUOTE_IDLE_S)
            self._book_event.clear()
            if not self.stopping:
                self.quote_once(0.0)

    def quote_once(self, book_rx_s: float) -> None:
        """Decide and send; ``book_rx_s`` is when the triggering frame arrived (0: a timer)."""
        book, orders = self.book, self.orders
        assert book is not None and orders is not None
        now = self.clock.monotonic()
        self.metrics.book_staleness.set(min(book.age_s(now), 1e9))
        reason = self._blocked(now)
        if reason != self._block_reason:
            logger.info("quoting %s", f"paused: {reason}" if reason else "resumed")
            self._block_reason = reason
        self.metrics.quoting.set(0 if reason else 1)
        if reason:
            for live in orders.live_quotes():
                if not live.busy:
                    orders.submit(Cancel(live.link_id), 0.0)
            return
        assert book.best_bid is not None and book.best_ask is not None
        tick = orders.instrument.tick_size
        mid = (book.best_bid + book.best_ask) * tick / 2
        pnl = orders.ledger.pnl(mid)
        self.metrics.pnl.set(float(pnl))
        kill = self.risk.check_drawdown(pnl)
        if kill:
            self.request_stop(kill, 1)
            return
        actions = self.decider.decide(
            book.best_bid, book.best_ask, orders.ledger.position, orders.live_quotes()
        )
        for action in actions:
            orders.submit(action, book_rx_s)

    # ---- housekeeping -------------------------------------------------------------------------
    async def _housekeeping(self) -> None:
        assert self.orders is not None and self.private is not None and self.public is not None
        while not self.stopping:
            await asyncio.sleep(HOUSEKEEPING_S)
            now = self.clock.monotonic()
            try:
                await self.orders.reconcile()
                quiet_s = now - self.private.last_message_s
                due = now - self._last_poll_s > self.cfg.reconcile_interval_s
                reconnected = self.private.connections > self._private_connections
                if reconnected and self.private.connected.is_set():
                    self._private_connections = self.private.connections
                    if self._private_connections > 1:
                        logger.info("private stream reconnected: polling REST for missed events")
                        self._last_poll_s = now
                        await self.orders.poll()
                elif due and quiet_s > self.cfg.risk.private_quiet_s:
                    self._last_poll_s = now
                    logger.info("private stream quiet for %.0fs: polling REST", quiet_s)
                    await self.orders.poll()
            except ExchangeError as exc:
                logger.warning("housekeeping: %s", exc)
            self._watch_book(now)
            if now - self._last_status_s >= STATUS_EVERY_S:
                self._last_status_s = now
                ledger = self.orders.ledger
                logger.info(
                    "status: position %s, open orders %d, fills %d, rebates %s, quoting: %s",
                    ledger.position,
                    self.orders.open_count(),
                    ledger.fills,
                    ledger.rebates,
                    self._block_reason or "yes",
                )

    def _watch_book(self, now_s: float) -> None:
        """A book that stays invalid while connected (resubscribe ignored): reconnect."""
        book, public = self.book, self.public
        if book is None or public is None or book.valid or not public.connected.is_set():
            self._invalid_since_s = 0.0
            return
        if not self._invalid_since_s:
            self._invalid_since_s = now_s
        elif now_s - self._invalid_since_s > self.cfg.risk.book_stale_s:
            logger.warning("no snapshot after resubscribe: reconnecting public stream")
            self._invalid_since_s = 0.0
            task = asyncio.get_running_loop().create_task(public.request_resync())
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)
