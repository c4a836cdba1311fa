"""The wallet agrees with positions and open orders after any sequence of operations (fills,
amends, cancels, leverage changes, the market ticking): a hypothesis state machine over the
real engine in fake time. Margins are recomputed here from the order and position lists, the
way a client would check them, and compared with what ``wallet-balance`` reports."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from bot.sim.clock import FakeClock
from bot.sim.config import SimConfig
from bot.sim.engine import Exchange
from bot.sim.instruments import Category
from bot.sim.validate import parse_create
from bot.sim.wire import ApiError

SYMBOL = "BTCUSDT"


def d(text: str) -> Decimal:
    return Decimal(text)


class AccountMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.exchange = Exchange(SimConfig(seed=11, taker_rate_per_s=5), self.clock)
        self.exchange.account.balances["BTC"] = Decimal(1)
        self.pushed: list[dict[str, Any]] = []
        self.exchange.private_listeners = 1
        self.exchange.on_private = lambda topic, data: (
            self.pushed.extend(data) if topic == "wallet" else None
        )

    def _touch(self, category: Category) -> tuple[Decimal, Decimal]:
        market = self.exchange.markets[(category, SYMBOL)]
        bid, ask = market.book.bids.best(), market.book.asks.best()
        assert bid is not None and ask is not None
        return market.inst.price_dec(bid), market.inst.price_dec(ask)

    @rule(
        spot=st.booleans(),
        buy=st.booleans(),
        offset_ticks=st.integers(-20, 200),
        lots=st.integers(1, 30),
        market=st.booleans(),
    )
    def place(self, spot: bool, buy: bool, offset_ticks: int, lots: int, market: bool) -> None:
        category = Category.SPOT if spot else Category.LINEAR
        inst = self.exchange.instruments[(category, SYMBOL)]
        bid, ask = self._touch(category)
        price = (
            (bid - offset_ticks * inst.tick_size) if buy else (ask + offset_ticks * inst.tick_size)
        )
        qty = inst.qty_dec(lots) * (100 if spot else 1)
        params = {
            "category": category.value,
            "symbol": SYMBOL,
            "side": "Buy" if buy else "Sell",
            "orderType": "Market" if market else "Limit",
            "qty": str(qty),
        }
        if not market:
            params["price"] = str(price)
        with contextlib.suppress(ApiError):  # refused (balance, notional): nothing changed
            self.exchange.place(parse_create(self.exchange, params))

    @rule(data=st.data(), new_lots=st.integers(1, 40), move_ticks=st.integers(-5, 5))
    def amend(self, data: st.DataObject, new_lots: int, move_ticks: int) -> None:
        orders = [o for book in self.exchange.open_orders.values() for o in book.values()]
        if not orders:
            return
        order = data.draw(st.sampled_from(sorted(orders, key=lambda o: o.order_id)))
        lots = new_lots if new_lots > order.cum_lots else None
        self.exchange.amend(order, lots=lots, price_ticks=max(1, order.price_ticks + move_ticks))

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        orders = [o for book in self.exchange.open_orders.values() for o in book.values()]
        if orders:
            order = data.draw(st.sampled_from(sorted(orders, key=lambda o: o.order_id)))
            self.exchange.cancel(order.instrument, order.order_id, "")

    @rule(leverage=st.sampled_from(["1", "2.5", "5", "10", "25", "100"]))
    def set_leverage(self, leverage: str) -> None:
        inst = self.exchange.instruments[(Category.LINEAR, SYMBOL)]
        self.exchange.account.position(inst).leverage = d(leverage)
        self.exchange.mark_position(inst)

    @rule(seconds=st.floats(0.05, 3.0))
    def tick(self, seconds: float) -> None:
        self.clock.advance(int(seconds * 1000))
        for market in self.exchange.markets.values():
            self.exchange.step_market(market, seconds)

    @invariant()
    def wallet_agrees(self) -> None:
        exchange = self.exchange
        wallet = exchange.wallet()
        usdt = next(c for c in wallet["coin"] if c["coin"] == "USDT")
        position_im = Decimal(0)
        position_mm = Decimal(0)
        for symbol, pos in exchange.account.positions.items():
            inst = exchange.instruments[(Category.LINEAR, symbol)]
            row = pos.to_wire(exchange.markets[inst.key].mark(), ws=False)
            assert d(row["positionIM"]) == d(row["positionValue"]) / d(row["leverage"])
            position_im += d(row["positionIM"])
            position_mm += d(row["positionMM"])
        order_im = Decimal(0)
        locked = {"USDT": Decimal(0), "BTC": Decimal(0)}
        for book in exchange.open_orders.values():
            for order in book.values():
                row = order.to_wire()
                leaves, price = d(row["leavesQty"]), d(row["price"])
                if row["category"] == "linear":
                    lev = exchange.account.position(order.instrument).leverage
                    order_im += leaves * price / lev
                elif row["side"] == "Buy":
                    locked["USDT"] += leaves * price
                else:
                    locked["BTC"] += leaves
        assert d(usdt["totalPositionIM"]) == position_im
        assert d(usdt["totalOrderIM"]) == order_im
        assert d(usdt["totalPositionMM"]) == position_mm
        assert d(wallet["totalInitialMargin"]) == position_im + order_im
        assert d(wallet["totalMaintenanceMargin"]) == position_mm
        balance = d(usdt["walletBalance"])
        expected_free = max(Decimal(0), balance - position_im - order_im - locked["USDT"])
        assert d(usdt["availableToWithdraw"]) == expected_free
        assert d(usdt["locked"]) == locked["USDT"]
        btc = next(c for c in wallet["coin"] if c["coin"] == "BTC")
        assert d(btc["locked"]) == locked["BTC"]
        assert d(btc["availableToWithdraw"]) == max(
            Decimal(0), d(btc["walletBalance"]) - locked["BTC"]
        )
        assert d(wallet["totalAvailableBalance"]) <= d(wallet["totalMarginBalance"])

    @invariant()
    def every_push_is_the_state_then(self) -> None:
        """The last wallet push equals the wallet now (pushed after every change)."""
        if self.pushed:
            last = dict(self.pushed[-1])
            now = self.exchange.wallet()
            for key in ("totalInitialMargin", "totalMaintenanceMargin"):
                assert last[key] == now[key]


TestAccountInvariants = AccountMachine.TestCase
TestAccountInvariants.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
