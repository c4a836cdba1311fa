"""The matching engine: user orders against each symbol's book, the market tick, and the events.

One :class:`Exchange` owns the books (via :class:`~bot.sim.market.SymbolMarket`), the orders and
the account. Every public operation mutates state synchronously, collects the private events it
caused (``order``, ``execution``, ``position``, ``wallet``) and hands them to ``on_private`` in
one flush, and public trades to ``on_trades``; the WebSocket layer adds latency on the way out.
So REST acks are "accepted", the truth arrives on the streams, as on Bybit (docs/bybit-v5.md §6).
"""

from __future__ import annotations

import random
import uuid
import zlib
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.sim.account import Account
from bot.sim.book import Fill
from bot.sim.clock import Clock
from bot.sim.config import SimConfig
from bot.sim.instruments import Category, Instrument
from bot.sim.margin import order_margins
from bot.sim.market import SymbolMarket
from bot.sim.orders import Order, Status, execution_wire
from bot.sim.wire import ORDER_NOT_EXISTS, SPOT_ORDER_NOT_EXISTS, ApiError, dumps

PrivateSink = Callable[[str, list[dict[str, Any]]], None]
TradeSink = Callable[[Instrument, list[dict[str, Any]]], None]
SWEEP_ALL = 1 << 62


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """A validated create request (see :mod:`bot.sim.validate`)."""

    inst: Instrument
    is_buy: bool
    order_type: str  # "Limit" | "Market"
    time_in_force: str  # "GTC" | "IOC" | "FOK" | "PostOnly"
    price_ticks: int  # 0 for market orders
    lots: int
    order_link_id: str
    reduce_only: bool
    position_idx: int


def _not_found(inst: Instrument, action: str) -> ApiError:
    if inst.category is Category.SPOT:
        return ApiError(SPOT_ORDER_NOT_EXISTS)
    return ApiError(ORDER_NOT_EXISTS, f"order not exists or too late to {action}")


class Exchange:
    """State and matching for every instrument of the simulator."""

    def __init__(self, config: SimConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.instruments = {inst.key: inst for inst in config.instruments}
        self.markets = {
            inst.key: SymbolMarket(
                inst,
                random.Random(config.seed * 1_000_003 + zlib.crc32(repr(inst.key).encode())),  # noqa: S311
                config.book_levels,
                model=config.market_model(),
            )
            for inst in config.instruments
        }
        self._ids = random.Random(config.seed ^ 0x1D5)  # noqa: S311 (seeded, not crypto)
        self.account = Account(
            maker_fee=config.maker_fee,
            taker_fee=config.taker_fee,
            balances={"USDT": config.start_balance_usdt},
        )
        self.open_orders: dict[tuple[Category, str], dict[str, Order]] = {
            key: {} for key in self.instruments
        }
        self.by_id: dict[str, Order] = {}
        self.by_link: dict[str, Order] = {}
        self.closed: deque[Order] = deque()
        self._raced: set[str] = set()
        self.stats: Counter[str] = Counter()
        self.on_private: PrivateSink = lambda topic, data: None
        self.on_trades: TradeSink = lambda inst, trades: None
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._dirty_positions: set[str] = set()
        self._exec_seq = 0
        self.private_listeners = 0  # authenticated private sockets with topics (set by the hub)
        self.on_step: list[Callable[[SymbolMarket], None]] = []  # after each market tick
        # after any trade, once the operation that traded is done (at its flush): conditional
        # orders fire on the last price as it moves, not only at the next market tick
        self.on_trade: list[Callable[[SymbolMarket], None]] = []
        self._traded: list[SymbolMarket] = []
        self._in_trade_hooks = False

    # --- ids, events -------------------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def _emit(self, topic: str, item: dict[str, Any]) -> None:
        self._pending.setdefault(topic, []).append(item)

    def _emit_order(self, order: Order) -> None:
        if self.private_listeners:  # rendering is the costly part: skip it when nobody listens
            self._emit("order", order.to_wire())

    def flush(self) -> None:
        """Run the trade hooks of the markets that traded, then hand the events collected since
        the last flush to the private sink, in topic order."""
        if self._traded and not self._in_trade_hooks:
            self._in_trade_hooks = True  # a hook that trades (a stop firing) flushes again
            try:
                while self._traded:
                    market = self._traded.pop(0)
                    for hook in self.on_trade:
                        hook(market)
            finally:
                self._in_trade_hooks = False
        if not self.private_listeners:
            self._dirty_positions.clear()
            self._pending.clear()
            return
        for symbol in sorted(self._dirty_positions):
            inst = self.instruments[(Category.LINEAR, symbol)]
            pos = self.account.position(inst)
            self._emit("position", pos.to_wire(self.markets[inst.key].mark(), ws=True))
        if self._dirty_positions or "execution" in self._pending or "order" in self._pending:
            self._emit("wallet", self.wallet())  # order margin moves with every order event
        self._dirty_positions.clear()
        pending, self._pending = self._pending, {}
        for topic in ("order", "execution", "position", "wallet"):
            if topic in pending:
                self.on_private(topic, pending[topic])

    # --- lookups -----------------------------------------------------------------------------

    def find(self, inst: Instrument, order_id: str, link_id: str) -> Order | None:
        order = self.by_id.get(order_id) if order_id else self.by_link.get(link_id)
        if order is None or order.instrument is not inst:
            return None
        return order

    def marks(self) -> dict[str, Decimal]:
        return {k[1]: m.mark() for k, m in self.markets.items() if k[0] is Category.LINEAR}

    def wallet(self) -> dict[str, Any]:
        usd = {m.inst.base_coin: m.mark() for m in self.markets.values()}
        open_orders = (o for orders in self.open_orders.values() for o in orders.values())
        order_im, locked = order_margins(open_orders, self.account)
        return self.account.wallet_wire(self.marks(), usd, order_im=order_im, locked=locked)

    @property
    def open_count(self) -> int:
        return sum(len(orders) for orders in self.open_orders.values())

    # --- order entry -------------------------------------------------------------------------

    def place(self, req: OrderRequest) -> Order:
        """Accept an order (the REST ack) and run it through the book; events are flushed."""
        order = self.new_order(req)
        self._execute(order, order.created_ms)
        self.flush()
        return order

    def new_order(self, req: OrderRequest) -> Order:
        """An accepted order, registered for lookups, not yet matched (see :meth:`place`)."""
        now = self.clock.now_ms()
        inst = req.inst
        order = Order(
            instrument=inst,
            order_id=self.new_id(),
            order_link_id=req.order_link_id,
            is_buy=req.is_buy,
            order_type=req.order_type,
            time_in_force=req.time_in_force,
            price_ticks=req.price_ticks,
            lots=req.lots,
            reduce_only=req.reduce_only,
            position_idx=req.position_idx,
            now_ms=now,
        )
        self.by_id[order.order_id] = order
        if order.order_link_id:
            self.by_link[order.order_link_id] = order
        self.stats["orders_created"] += 1
        return order

    def run_order(self, order: Order) -> None:
        """Match ``order`` now, as if just placed (a conditional order that fired)."""
        self._execute(order, self.clock.now_ms())
        self.flush()

    def mark_position(self, inst: Instrument) -> None:
        """Push ``inst``'s position and the wallet (its margin changed without a fill)."""
        self._dirty_positions.add(inst.symbol)
        self.flush()

    def emit_execution(self, item: dict[str, Any], inst: Instrument) -> None:
        """Report an account event that is not a fill (funding) on the private streams."""
        self._emit("execution", item)
        self._dirty_positions.add(inst.symbol)

    def close_order(self, order: Order, status: Status, cancel_type: str) -> None:
        """Retire an order that never reached the book (a conditional order cancelled)."""
        self._close(order, status, self.clock.now_ms(), cancel_type=cancel_type)
        self.flush()

    def _crosses(self, order: Order) -> bool:
        book = self.markets[order.instrument.key].book
        best = book.asks.best() if order.is_buy else book.bids.best()
        if best is None:
            return False
        return order.price_ticks >= best if order.is_buy else order.price_ticks <= best

    def _execute(self, order: Order, now: int) -> None:
        """Match ``order`` as a taker where it crosses, then rest or close the remainder."""
        inst = order.instrument
        market = self.markets[inst.key]
        limit = order.price_ticks if order.order_type == "Limit" else None
        if order.time_in_force == "PostOnly" and self._crosses(order):
            reject = Status.REJECTED if inst.category is Category.SPOT else Status.CANCELLED
            self._close(order, reject, now, reason="EC_PostOnlyWillTakeLiquidity")
            return
        remaining = order.lots - order.cum_lots
        if order.time_in_force == "FOK" and (
            market.book.available(taker_buy=order.is_buy, limit_ticks=limit) < remaining
        ):
            self._close(order, Status.CANCELLED, now, reason="EC_CancelForNoFullFill")
            return
        fills = market.book.sweep(taker_buy=order.is_buy, limit_ticks=limit, lots=remaining)
        if fills:
            self._trades(market, fills, taker_buy=order.is_buy, taker=order, now=now)
        if not order.is_open:
            return
        if order.order_type == "Market" or order.time_in_force in ("IOC", "FOK"):
            partial = order.cum_lots > 0
            status = (
                Status.PARTIALLY_FILLED_CANCELED
                if partial and inst.category is Category.SPOT
                else Status.CANCELLED
            )
            self._close(
                order, status, now, reason="EC_NoError" if partial else "EC_NoImmediateQtyToFill"
            )
            return
        market.book.add_order(
            order.price_ticks, order.lots - order.cum_lots, order, is_bid=order.is_buy
        )
        self.open_orders[inst.key][order.order_id] = order
        if not fills:
            self._emit_order(order)

    def _close(
        self,
        order: Order,
        status: Status,
        now: int,
        *,
        reason: str = "EC_NoError",
        cancel_type: str = "UNKNOWN",
    ) -> None:
        order.status = status
        order.reject_reason = reason
        order.cancel_type = cancel_type
        order.updated_ms = now
        self._retire(order)
        if status in (Status.CANCELLED, Status.REJECTED, Status.PARTIALLY_FILLED_CANCELED):
            self.stats["orders_cancelled"] += 1
        self._emit_order(order)

    def _retire(self, order: Order) -> None:
        self.open_orders[order.instrument.key].pop(order.order_id, None)
        self.closed.append(order)
        while len(self.closed) > self.config.closed_order_history:
            old = self.closed.popleft()
            self.by_id.pop(old.order_id, None)
            self._raced.discard(old.order_id)
            if old.order_link_id and self.by_link.get(old.order_link_id) is old:
                del self.by_link[old.order_link_id]

    def cancel(self, inst: Instrument, order_id: str, link_id: str) -> Order:
        now = self.clock.now_ms()
        order = self.find(inst, order_id, link_id)
        if order is None:
            raise _not_found(inst, "cancel")
        if order.is_open:
            self.markets[inst.key].book.remove_order(order.price_ticks, order, is_bid=order.is_buy)
            self._close(order, Status.CANCELLED, now, cancel_type="CancelByUser")
        elif (
            order.status is Status.FILLED
            and order.order_id not in self._raced
            and now - order.updated_ms <= self.config.cancel_race_window_ms
        ):
            # The cancel crossed the fill in flight: Bybit accepts it and then reports a
            # second Filled message (docs/bybit-v5.md §6 "Races").
            self._raced.add(order.order_id)
            wire = order.to_wire()
            wire.update(
                cancelType="CancelByUser",
                rejectReason="EC_OrigClOrdIDDoesNotExist",
                updatedTime=str(now),
            )
            self._emit("order", wire)
            self.stats["cancel_fill_races"] += 1
        else:
            raise _not_found(inst, "cancel")
        self.flush()
        return order

    def cancel_all(self, insts: list[Instrument], cancel_type: str = "CancelByUser") -> list[Order]:
        now = self.clock.now_ms()
        cancelled: list[Order] = []
        for inst in insts:
            book = self.markets[inst.key].book
            for order in list(self.open_orders[inst.key].values()):
                book.remove_order(order.price_ticks, order, is_bid=order.is_buy)
                self._close(order, Status.CANCELLED, now, cancel_type=cancel_type)
                cancelled.append(order)
        self.flush()
        return cancelled

    def amend(self, order: Order, *, lots: int | None, price_ticks: int | None) -> Order:
        """Change an open order's total qty and/or price. A smaller qty at the same price keeps
        its place in the queue; a new price or a larger qty goes to the back, as on exchanges."""
        now = self.clock.now_ms()
        book = self.markets[order.instrument.key].book
        same_price = price_ticks is None or price_ticks == order.price_ticks
        if same_price and lots is not None and lots < order.lots:
            book.reduce_order(order.price_ticks, order, order.lots - lots, is_bid=order.is_buy)
            order.lots = lots
            order.updated_ms = now
            self._emit_order(order)
            self.flush()
            return order
        book.remove_order(order.price_ticks, order, is_bid=order.is_buy)
        if lots is not None:
            order.lots = lots
        if price_ticks is not None:
            order.price_ticks = price_ticks
        order.updated_ms = now
        del self.open_orders[order.instrument.key][order.order_id]
        self._execute(order, now)  # emits the new state: rested, filled or cancelled
        self.flush()
        return order

    # --- fills -------------------------------------------------------------------------------

    def _trades(
        self,
        market: SymbolMarket,
        fills: list[Fill],
        *,
        taker_buy: bool,
        taker: Order | None,
        now: int,
    ) -> None:
        """Book a sweep: executions for user makers and taker, one public print per price."""
        if self.on_trade and market not in self._traded:
            self._traded.append(market)
        market.seq += 1
        self._exec_seq += 1
        inst = market.inst
        prints: dict[int, int] = {}
        for fill in fills:
            prints[fill.ticks] = prints.get(fill.ticks, 0) + fill.lots
            if fill.maker is not None:
                self._exec(fill.maker, fill.ticks, fill.lots, is_maker=True, now=now, mark=market)
            if taker is not None:
                self._exec(taker, fill.ticks, fill.lots, is_maker=False, now=now, mark=market)
        trades = []
        for ticks, lots in prints.items():
            direction = market.record_trade(ticks, lots, now)
            trades.append(
                {
                    "T": now,
                    "s": inst.symbol,
                    "S": "Buy" if taker_buy else "Sell",
                    "v": inst.qty_str(lots),
                    "p": inst.price_str(ticks),
                    "L": direction,
                    "i": self.new_id(),
                    "BT": False,
                    "RPI": False,
                    "seq": market.seq,
                }
            )
        self.on_trades(inst, trades)

    def _exec(
        self, order: Order, ticks: int, lots: int, *, is_maker: bool, now: int, mark: SymbolMarket
    ) -> None:
        inst = order.instrument
        qty, price = inst.qty_dec(lots), inst.price_dec(ticks)
        rate, fee, fee_coin, pnl = self.account.settle_fill(
            inst, is_buy=order.is_buy, qty=qty, price=price, is_maker=is_maker
        )
        order.cum_lots += lots
        order.cum_value += qty * price
        order.cum_fee += fee
        order.updated_ms = now
        if order.cum_lots >= order.lots:
            order.status = Status.FILLED
            self._retire(order)
            self.stats["orders_filled"] += 1
        else:
            order.status = Status.PARTIALLY_FILLED
        self.stats["executions"] += 1
        closed = (
            self.account.position(inst).last_closed
            if inst.category is Category.LINEAR
            else Decimal(0)
        )
        execution = execution_wire(
            order,
            exec_id=self.new_id(),
            ticks=ticks,
            lots=lots,
            is_maker=is_maker,
            fee_rate=rate,
            fee=fee,
            fee_coin=fee_coin,
            pnl=pnl,
            closed_qty=closed,
            mark=mark.mark(),
            now_ms=now,
            seq=self._exec_seq,
        )
        self.account.executions.append(
            (
                inst.category.value,
                inst.symbol,
                order.order_id,
                order.order_link_id,
                dumps(execution),
            )
        )
        self._emit("execution", execution)
        self._emit_order(order)
        if inst.category is Category.LINEAR:
            pos = self.account.position(inst)
            pos.updated_ms = now
            pos.created_ms = pos.created_ms or now
            pos.seq = self._exec_seq
            self._dirty_positions.add(inst.symbol)

    # --- the market tick ---------------------------------------------------------------------

    def step(self, dt_s: float) -> None:
        """Advance every symbol by ``dt_s`` (see :meth:`step_market`)."""
        for market in self.markets.values():
            self.step_market(market, dt_s)

    def step_market(self, market: SymbolMarket, dt_s: float) -> None:
        """Move the mid; resting user orders the move crossed trade (the market went through
        them, the synthetic size queued ahead of them first) while other crossed synthetic
        size is withdrawn; re-lay depth; then the taker flow."""
        now = self.clock.now_ms()
        cfg = self.config
        market.step_mid(dt_s)
        bid_top, ask_top = market.touch()
        market.withdraw_crossed(bid_top, ask_top)
        for taker_buy, limit in ((True, bid_top), (False, ask_top)):
            fills = market.book.sweep(taker_buy=taker_buy, limit_ticks=limit, lots=SWEEP_ALL)
            if fills:
                self._trades(market, fills, taker_buy=taker_buy, taker=None, now=now)
        market.refresh_liquidity()
        for is_buy, lots in market.taker_orders(cfg.taker_rate_per_s, dt_s, cfg.taker_size_levels):
            self.taker_trade(market, is_buy=is_buy, lots=lots, now=now)
        for hook in self.on_step:
            hook(market)
        self.flush()

    def taker_trade(self, market: SymbolMarket, *, is_buy: bool, lots: int, now: int) -> int:
        """A synthetic market order of ``lots``; returns the lots filled."""
        fills = market.book.sweep(taker_buy=is_buy, limit_ticks=None, lots=lots)
        if fills:
            self._trades(market, fills, taker_buy=is_buy, taker=None, now=now)
        return sum(f.lots for f in fills)
