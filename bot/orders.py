"""The order manager: our orders' states, fills, position, and reconciliation with the venue.

Venue-neutral: it talks to an :class:`~bot.venues.base.ExchangeConnector` in domain types
only. Client order ids are ``mm<session>-<n>`` so orders of this process are told from strays.
The venue's user stream is the source of truth (orders, fills, positions); acks only mean
"accepted" (docs/bybit-v5.md §6). A create or amend whose reply is lost (timeout, 5xx, busy)
makes the order :attr:`OrderState.UNKNOWN`, never "rejected": :meth:`OrderManager.reconcile`
asks the venue by client id and adopts what it says. When the private stream goes quiet
the open-order list is polled instead. At startup and shutdown every open order on the symbol
is cancelled and the venue is polled until none remain.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.clock import Clock
from bot.domain import Fill, LimitOrder, OrderStatus, OrderUpdate, Position
from bot.errors import (
    ApiError,
    DuplicateOrderError,
    ExchangeError,
    OrderNotFoundError,
    RateLimitedError,
    ServerBusyError,
    TransportError,
)
from bot.instrument import Instrument
from bot.ledger import Ledger
from bot.metrics import BotMetrics
from bot.risk import RiskManager
from bot.strategy import Action, Amend, Create, LiveQuote, Side
from bot.venues.base import ExchangeConnector, cancel_all_confirmed

logger = logging.getLogger(__name__)

NOT_FOUND_GRACE_S = 3.0  # an unacked order the venue does not know after this was never placed
PENDING_CHECK_S = 3.0  # an ack or cancel not confirmed by the stream after this is checked


class OrderState(StrEnum):
    PENDING_NEW = "pending_new"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"
    UNKNOWN = "unknown"


_OPEN_STATE = {
    OrderStatus.NEW: OrderState.NEW,
    OrderStatus.PARTIALLY_FILLED: OrderState.PARTIALLY_FILLED,
}


@dataclass(slots=True)
class TrackedOrder:
    link_id: str
    side: Side
    level: int
    price_ticks: int
    qty: Decimal
    state: OrderState
    since_s: float
    order_id: str = ""
    busy: bool = False
    booked: Decimal = Decimal(0)  # filled qty already in the ledger (executions received)


class OrderManager:
    def __init__(
        self,
        venue: ExchangeConnector,
        instrument: Instrument,
        metrics: BotMetrics,
        risk: RiskManager,
        clock: Clock,
    ) -> None:
        self.venue = venue
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.metrics = metrics
        self.risk = risk
        self.clock = clock
        self.orders: dict[str, TrackedOrder] = {}
        self.ledger = Ledger()
        self.prefix = f"mm{secrets.token_hex(3)}"
        self._next_id = 0
        self.started_ms = venue.now_ms()
        self._tasks: set[asyncio.Task[None]] = set()
        # Fills the order stream reported (an order gone Filled) whose executions have not
        # reached the ledger yet: signed qty by link id. The position check counts them, so a
        # quote placed in that gap cannot take the position past its limit.
        self._unbooked: dict[str, Decimal] = {}

    # ---- views ----------------------------------------------------------------------------
    def live_quotes(self) -> list[LiveQuote]:
        return [
            LiveQuote(
                o.link_id,
                o.side,
                o.level,
                o.price_ticks,
                o.qty,
                o.busy or o.state in (OrderState.UNKNOWN, OrderState.PENDING_CANCEL),
            )
            for o in self.orders.values()
        ]

    def worst_case_position(self, side: Side, exclude: str | None = None) -> Decimal:
        """The position if every open order on ``side`` (but ``exclude``) filled now, counting
        fills already reported by the order stream but not yet booked from executions."""
        sign = 1 if side is Side.BUY else -1
        resting = sum(
            (
                o.qty - o.booked
                for o in self.orders.values()
                if o.side is side and o.link_id != exclude
            ),
            Decimal(0),
        )
        return self.ledger.position + sum(self._unbooked.values(), Decimal(0)) + sign * resting

    def open_count(self) -> int:
        return len(self.orders)

    def _publish(self) -> None:
        self.metrics.open_orders.set(len(self.orders))
        unknown = sum(o.state is OrderState.UNKNOWN for o in self.orders.values())
        self.metrics.unknown_orders.set(unknown)
        self.metrics.position.set(float(self.ledger.position))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for requests in flight (shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---- sending ----------------------------------------------------------------------------
    def submit(self, action: Action, book_received_s: float) -> None:
        """Start ``action`` in the background after the risk checks (refusals are counted)."""
        opens = isinstance(action, Create)
        refusal = self.risk.check_submit(opens_order=opens, open_orders=len(self.orders))
        if refusal is None and isinstance(action, Create | Amend):
            q = action.quote
            sign = 1 if q.side is Side.BUY else -1
            exclude = action.link_id if isinstance(action, Amend) else None
            refusal = self.risk.check_position(
                self.worst_case_position(q.side, exclude), sign, q.qty
            )
        if refusal is not None:
            self.metrics.risk_rejections.labels(reason=refusal.reason.value).inc()
            return
        if isinstance(action, Create):
            self._next_id += 1
            q = action.quote
            order = TrackedOrder(
                f"{self.prefix}-{self._next_id}",
                q.side,
                q.level,
                q.price_ticks,
                q.qty,
                OrderState.PENDING_NEW,
                self.clock.monotonic(),
                busy=True,
            )
            self.orders[order.link_id] = order
            self._spawn(self._create(order, book_received_s))
        else:
            tracked = self.orders.get(action.link_id)
            if tracked is None or tracked.busy:
                return
            tracked.busy = True
            if isinstance(action, Amend):
                self._spawn(self._amend(tracked, action, book_received_s))
            else:
                tracked.state = OrderState.PENDING_CANCEL
                tracked.since_s = self.clock.monotonic()
                self._spawn(self._cancel(tracked, book_received_s))
        self._publish()

    def _sent(self, book_received_s: float) -> None:
        if book_received_s:
            self.metrics.tick_to_order.observe(self.clock.monotonic() - book_received_s)

    def _failed(self, action: str, exc: ExchangeError) -> None:
        result = "rate_limited" if isinstance(exc, RateLimitedError) else "error"
        self.metrics.orders.labels(action=action, result=result).inc()
        logger.warning("%s failed: %s", action, exc)
        if not isinstance(exc, RateLimitedError) and self.risk.record_error():
            logger.error(
                "error breaker tripped: quoting paused for %.0fs", self.risk.cfg.error_window_s
            )

    def _unknown(
        self, order: TrackedOrder, action: str, exc: ExchangeError, *, race: bool = False
    ) -> None:
        """Mark ``order`` unknown until reconciled. ``race``: the venue said "no such order"
        (filled or cancelled meanwhile): routine for a maker, not an error."""
        order.state = OrderState.UNKNOWN
        order.since_s = self.clock.monotonic()
        if race:
            logger.info("%s %s: order already gone (%s): reconciling", action, order.link_id, exc)
            return
        self.metrics.orders.labels(action=action, result="unknown").inc()
        logger.warning("%s %s outcome unknown (%s): reconciling", action, order.link_id, exc)
        self.risk.record_error()

    async def _create(self, order: TrackedOrder, book_received_s: float) -> None:
        request = LimitOrder(order.link_id, order.side, order.price_ticks, order.qty)
        self._sent(book_received_s)
        try:
            order_id = await self.venue.place(request)
        except (TransportError, ServerBusyError, DuplicateOrderError) as exc:
            self._unknown(order, "create", exc)
        except ApiError as exc:
            self.orders.pop(order.link_id, None)  # a definite "no": nothing was placed
            self._failed("create", exc)
        else:
            self.metrics.orders.labels(action="create", result="ok").inc()
            order.order_id = order_id
        finally:
            order.busy = False
            self._publish()

    async def _amend(self, order: TrackedOrder, action: Amend, book_received_s: float) -> None:
        q = action.quote
        self._sent(book_received_s)
        try:
            await self.venue.amend(order.link_id, q.price_ticks, q.qty)
        except OrderNotFoundError as exc:  # filled or cancelled meanwhile: ask, don't guess
            self.metrics.orders.labels(action="amend", result="not_found").inc()
            self._unknown(order, "amend", exc, race=True)
        except (TransportError, ServerBusyError) as exc:
            self._unknown(order, "amend", exc)
        except ApiError as exc:
            self._failed("amend", exc)
        else:
            self.metrics.orders.labels(action="amend", result="ok").inc()
            order.price_ticks, order.qty = q.price_ticks, q.qty
        finally:
            order.busy = False
            self._publish()

    async def _cancel(self, order: TrackedOrder, book_received_s: float) -> None:
        self._sent(book_received_s)
        try:
            await self.venue.cancel(client_id=order.link_id)
        except OrderNotFoundError as exc:
            self.metrics.orders.labels(action="cancel", result="not_found").inc()
            self._unknown(order, "cancel", exc, race=True)
        except ExchangeError as exc:
            self._failed("cancel", exc)
            order.state = OrderState.UNKNOWN
        else:
            self.metrics.orders.labels(action="cancel", result="ok").inc()
        finally:
            order.busy = False
            self._publish()

    # ---- the user stream -------------------------------------------------------------------
    def on_orders(self, updates: list[OrderUpdate]) -> None:
        for update in updates:
            if update.symbol == self.symbol:
                self._apply_order(update, from_stream=True)
        self._publish()

    def _apply_order(self, update: OrderUpdate, *, from_stream: bool) -> None:
        link_id = update.client_id
        order = self.orders.get(link_id)
        if order is None:
            if update.status.is_open and from_stream:
                logger.warning("stray open order %s on %s: cancelling", link_id or "?", self.symbol)
                self._spawn(self._cancel_stray(update.order_id, link_id))
            return
        open_state = _OPEN_STATE.get(update.status)
        if open_state is None:  # filled, cancelled, rejected
            if update.post_only_rejected:
                # Would have crossed: the quote was not placed; re-price, not an error.
                self.metrics.orders.labels(action="create", result="post_only_rejected").inc()
            unbooked = update.filled_qty - order.booked
            if unbooked > 0:
                self._unbooked[link_id] = unbooked if order.side is Side.BUY else -unbooked
            del self.orders[link_id]
            return
        order.order_id = update.order_id or order.order_id
        if order.state is not OrderState.PENDING_CANCEL or not from_stream:
            order.state = open_state
        if update.price_ticks is not None and not order.busy:
            order.price_ticks = update.price_ticks
            order.qty = update.qty if update.qty is not None else order.qty

    def on_fills(self, fills: list[Fill]) -> None:
        for fill in fills:
            if fill.symbol != self.symbol or not self.ledger.apply_fill(fill):
                continue
            self._booked(fill.client_id, fill.qty)
            if fill.fee < 0:
                self.metrics.rebates.inc(float(-fill.fee))
            else:
                self.metrics.fees.inc(float(fill.fee))
            liquidity = "maker" if fill.maker else "taker"
            self.metrics.fills.labels(side=fill.side, liquidity=liquidity).inc()
            self.metrics.filled_qty.labels(side=fill.side).inc(float(fill.qty))
        self._publish()

    def _booked(self, link_id: str, qty: Decimal) -> None:
        order = self.orders.get(link_id)
        if order is not None:
            order.booked += qty
        pending = self._unbooked.get(link_id)
        if pending is not None:
            left = abs(pending) - qty
            if left > 0:
                self._unbooked[link_id] = left if pending > 0 else -left
            else:
                del self._unbooked[link_id]

    def on_positions(self, positions: list[Position]) -> None:
        for position in positions:
            if position.symbol == self.symbol:
                self.ledger.set_position(position)
                self._unbooked.clear()  # the venue's position counts every fill it reported
        self._publish()

    # ---- reconciliation -------------------------------------------------------------------
    async def _cancel_stray(self, order_id: str, link_id: str) -> None:
        try:
            await self.venue.cancel(order_id=order_id, client_id=link_id)
            self.metrics.reconciliations.labels(outcome="stray_cancelled").inc()
        except ExchangeError as exc:
            logger.warning("cancel of stray order failed: %s", exc)

    async def reconcile(self) -> None:
        """Resolve unknown orders and unconfirmed acks/cancels by asking the venue."""
        now = self.clock.monotonic()
        for order in list(self.orders.values()):
            due = order.state is OrderState.UNKNOWN or (
                order.state in (OrderState.PENDING_NEW, OrderState.PENDING_CANCEL)
                and now - order.since_s > PENDING_CHECK_S
            )
            if not due or order.busy:
                continue
            try:
                found = await self.venue.order(order.link_id)
            except ExchangeError as exc:
                logger.info("reconcile of %s deferred: %s", order.link_id, exc)
                return
            if found is not None:
                self._apply_order(found, from_stream=False)
                self.metrics.reconciliations.labels(outcome="found").inc()
            elif order.order_id or now - order.since_s > NOT_FOUND_GRACE_S:
                self.orders.pop(order.link_id, None)
                self.metrics.reconciliations.labels(outcome="not_open").inc()
        self._publish()

    async def open_on_venue(self) -> list[OrderUpdate]:
        return await self.venue.open_orders()

    async def poll(self) -> None:
        """REST view of open orders, fills and position (the private stream went quiet or
        reconnected: what happened meanwhile is fetched, not assumed)."""
        venue = await self.venue.open_orders()
        on_venue = {i.client_id for i in venue}
        for item in venue:
            self._apply_order(item, from_stream=True)  # strays get cancelled
        now = self.clock.monotonic()
        for order in self.orders.values():
            if order.link_id not in on_venue and not order.busy and now - order.since_s > 1:
                order.state = OrderState.UNKNOWN
        # Fills the stream may have missed; the ledger skips exec ids it has seen.
        self.on_fills(await self.venue.fills_since(self.started_ms))
        await self.sync_position()

    async def sync_position(self, *, initial: bool = False) -> None:
        """Position from REST; ``initial`` also books the inherited position at its average
        price, so PnL (and the drawdown kill switch) starts at that position's unrealised PnL."""
        position = await self.venue.position()
        if position is not None:
            self.ledger.set_position(position)
            self._unbooked.clear()
            if initial:
                self.ledger.cash = -self.ledger.position * position.avg_price
        self._publish()

    async def cancel_all(self, timeout_s: float) -> int:
        """Cancel every open order on the symbol and confirm (see
        :func:`~bot.venues.base.cancel_all_confirmed`)."""
        remaining = await cancel_all_confirmed(self.venue, self.clock, timeout_s)
        if remaining == 0:
            self.orders.clear()
            self._publish()
        return remaining
