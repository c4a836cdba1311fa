"""The matching engine in fake time: post-only rules, maker fills with rebates, partial fills,
the cancel/fill race, amend priority, IOC/FOK, positions and wallet."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest

from bot.sim.clock import FakeClock
from bot.sim.config import SimConfig
from bot.sim.engine import Exchange, OrderRequest
from bot.sim.instruments import Category
from bot.sim.validate import parse_create
from bot.sim.wire import ApiError


class Events:
    def __init__(self, exchange: Exchange) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []
        self.trades: list[dict[str, Any]] = []
        exchange.private_listeners = 1  # events are only rendered when someone listens
        exchange.on_private = lambda topic, data: self.items.extend((topic, d) for d in data)
        exchange.on_trades = lambda inst, trades: self.trades.extend(trades)

    def of(self, topic: str) -> list[dict[str, Any]]:
        return [d for t, d in self.items if t == topic]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def exchange(clock: FakeClock) -> Exchange:
    return Exchange(SimConfig(seed=7), clock)


def req(exchange: Exchange, **params: Any) -> OrderRequest:
    base = {"category": "linear", "symbol": "BTCUSDT", "orderType": "Limit", "qty": "0.001"}
    return parse_create(exchange, {**base, **params})


def best(exchange: Exchange, category: Category = Category.LINEAR) -> tuple[Decimal, Decimal]:
    market = exchange.markets[(category, "BTCUSDT")]
    bid, ask = market.book.bids.best(), market.book.asks.best()
    assert bid is not None and ask is not None
    return market.inst.price_dec(bid), market.inst.price_dec(ask)


def test_post_only_crossing_is_acked_then_cancelled_linear(exchange: Exchange) -> None:
    events = Events(exchange)
    _, ask = best(exchange)
    order = exchange.place(req(exchange, side="Buy", price=str(ask), timeInForce="PostOnly"))
    assert order.order_id  # the ack carries an id: the create call did not fail
    (push,) = events.of("order")
    assert push["orderStatus"] == "Cancelled"
    assert push["rejectReason"] == "EC_PostOnlyWillTakeLiquidity"
    assert (push["cancelType"], push["leavesQty"], push["cumExecQty"]) == (
        "UNKNOWN",
        "0.000",
        "0.000",
    )
    assert events.of("execution") == []
    assert exchange.open_count == 0


def test_post_only_crossing_is_rejected_on_spot(exchange: Exchange) -> None:
    events = Events(exchange)
    bid, _ = best(exchange, Category.SPOT)
    exchange.account.balances["BTC"] = Decimal(1)
    request = parse_create(
        exchange,
        {
            "category": "spot",
            "symbol": "BTCUSDT",
            "side": "Sell",
            "orderType": "Limit",
            "qty": "0.001",
            "price": str(bid),
            "timeInForce": "PostOnly",
        },
    )
    exchange.place(request)
    (push,) = events.of("order")
    assert (push["orderStatus"], push["rejectReason"]) == (
        "Rejected",
        "EC_PostOnlyWillTakeLiquidity",
    )


def test_resting_maker_filled_by_taker_flow_earns_rebate(
    exchange: Exchange, clock: FakeClock
) -> None:
    events = Events(exchange)
    bid, _ = best(exchange)
    order = exchange.place(
        req(
            exchange,
            side="Buy",
            price=str(bid),
            qty="0.005",
            timeInForce="PostOnly",
            orderLinkId="mk-1",
        )
    )
    market = exchange.markets[(Category.LINEAR, "BTCUSDT")]
    level = market.book.bids.levels[market.book.bids.best() or 0]
    ahead = sum(e.lots for e in level.entries if e.order is None)
    # A taker sell that eats the queue ahead of us and 2 of our 5 lots: a partial maker fill.
    exchange.taker_trade(market, is_buy=False, lots=ahead + 2, now=clock.now_ms())
    exchange.flush()
    (execution,) = events.of("execution")
    assert execution["isMaker"] is True
    assert Decimal(execution["execFee"]) < 0 and Decimal(execution["feeRate"]) == Decimal(
        "-0.00005"
    )
    assert execution["execQty"] == "0.002" and execution["orderLinkId"] == "mk-1"
    assert order.status == "PartiallyFilled"
    assert Decimal(execution["execFee"]) == Decimal(execution["execValue"]) * Decimal("-0.00005")
    wallet = events.of("wallet")[-1]
    assert Decimal(wallet["coin"][0]["walletBalance"]) == Decimal(100_000) - Decimal(
        execution["execFee"]
    )
    position = events.of("position")[-1]
    assert (position["side"], position["size"]) == ("Buy", "0.002")


def test_queue_priority_is_price_then_time(exchange: Exchange, clock: FakeClock) -> None:
    bid, _ = best(exchange)
    first = exchange.place(req(exchange, side="Buy", price=str(bid), qty="0.001"))
    second = exchange.place(req(exchange, side="Buy", price=str(bid), qty="0.001"))
    market = exchange.markets[(Category.LINEAR, "BTCUSDT")]
    entries = market.book.bids.levels[market.book.bids.best() or 0].entries
    users = [e.order for e in entries if e.order is not None]
    assert users == [first, second]


def test_cancel_after_fill_reports_second_filled_message(
    exchange: Exchange, clock: FakeClock
) -> None:
    events = Events(exchange)
    bid, _ = best(exchange)
    order = exchange.place(
        req(exchange, side="Buy", price=str(bid), qty="0.001", timeInForce="PostOnly")
    )
    market = exchange.markets[(Category.LINEAR, "BTCUSDT")]
    exchange.taker_trade(market, is_buy=False, lots=10_000, now=clock.now_ms())
    exchange.flush()
    assert order.status == "Filled"
    clock.advance(10)  # within the race window: the cancel crossed the fill in flight
    exchange.cancel(order.instrument, order.order_id, "")
    filled = [d for d in events.of("order") if d["orderStatus"] == "Filled"]
    assert [(d["cancelType"], d["rejectReason"]) for d in filled] == [
        ("UNKNOWN", "EC_NoError"),
        ("CancelByUser", "EC_OrigClOrdIDDoesNotExist"),
    ]
    clock.advance(1000)
    with pytest.raises(ApiError) as err:
        exchange.cancel(order.instrument, order.order_id, "")
    assert err.value.code == 110001


def test_ioc_fok_and_market(exchange: Exchange) -> None:
    events = Events(exchange)
    bid, ask = best(exchange)
    exchange.place(req(exchange, side="Buy", price=str(bid - 50), timeInForce="IOC"))
    exchange.place(req(exchange, side="Buy", price=str(ask), qty="5", timeInForce="FOK"))
    pushes = events.of("order")
    assert [(p["orderStatus"], p["rejectReason"]) for p in pushes] == [
        ("Cancelled", "EC_NoImmediateQtyToFill"),
        ("Cancelled", "EC_CancelForNoFullFill"),
    ]
    exchange.place(req(exchange, side="Sell", orderType="Market", qty="0.003"))
    assert events.of("order")[-1]["orderStatus"] == "Filled"
    assert all(e["isMaker"] is False and Decimal(e["execFee"]) > 0 for e in events.of("execution"))


def test_amend_reprices_and_validates(exchange: Exchange) -> None:
    bid, _ = best(exchange)
    order = exchange.place(req(exchange, side="Buy", price=str(bid - 20), qty="0.002"))
    exchange.amend(order, lots=3, price_ticks=order.price_ticks - 5)
    assert (order.lots, order.is_open) == (3, True)
    market = exchange.markets[(Category.LINEAR, "BTCUSDT")]
    assert any(e.order is order for e in market.book.bids.levels[order.price_ticks].entries)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"side": "Buy", "price": "95000.05"}, 10001),  # off tick
        ({"side": "Buy", "price": "95000", "qty": "0.0015"}, 10001),  # off step
        ({"side": "Buy", "price": "95000", "qty": "0.0001"}, 10001),  # below min qty
        ({"side": "Buy", "price": "100", "qty": "0.001"}, 110094),  # below min notional
        ({"side": "Hold", "price": "95000"}, 10001),
        ({"side": "Buy", "price": "95000", "qty": ["1"]}, 10001),
        ({"side": "Buy", "price": "95000", "category": "inverse"}, 10001),
        ({"side": "Buy", "price": "95000", "qty": "1000"}, 110007),  # margin > balance
        ({"side": "Sell", "price": "95000", "reduceOnly": True}, 110017),
    ],
)
def test_create_validation(exchange: Exchange, params: dict[str, Any], code: int) -> None:
    with pytest.raises(ApiError) as err:
        req(exchange, **params)
    assert err.value.code == code


def test_duplicate_order_link_id(exchange: Exchange) -> None:
    bid, _ = best(exchange)
    exchange.place(req(exchange, side="Buy", price=str(bid - 10), orderLinkId="dup"))
    with pytest.raises(ApiError) as err:
        req(exchange, side="Buy", price=str(bid - 10), orderLinkId="dup")
    assert err.value.code == 110072


def test_position_pnl_round_trip(exchange: Exchange) -> None:
    exchange.place(req(exchange, side="Buy", orderType="Market", qty="0.010"))
    exchange.place(req(exchange, side="Sell", orderType="Market", qty="0.010"))
    position = exchange.account.position(exchange.instruments[(Category.LINEAR, "BTCUSDT")])
    assert position.size == 0
    fees = sum(Decimal(orjson.loads(e[-1])["execFee"]) for e in exchange.account.executions)
    assert (
        exchange.account.balances["USDT"] == Decimal(100_000) + exchange.account.cum_realised - fees
    )


def test_market_step_is_deterministic_given_seed(clock: FakeClock) -> None:
    def run() -> list[Any]:
        exchange = Exchange(SimConfig(seed=42, taker_rate_per_s=20), clock)
        for _ in range(50):
            exchange.step(0.1)
        return [
            (m.mid_ticks, m.book.bids.top(5), m.book.asks.top(5)) for m in exchange.markets.values()
        ]

    assert run() == run()


def test_amending_post_only_across_the_book_cancels_it(exchange: Exchange) -> None:
    events = Events(exchange)
    bid, ask = best(exchange)
    order = exchange.place(req(exchange, side="Buy", price=str(bid - 10), timeInForce="PostOnly"))
    market = exchange.markets[(Category.LINEAR, "BTCUSDT")]
    exchange.amend(order, lots=None, price_ticks=market.inst.to_ticks(ask))
    last = events.of("order")[-1]
    assert (last["orderStatus"], last["rejectReason"]) == (
        "Cancelled",
        "EC_PostOnlyWillTakeLiquidity",
    )
    assert exchange.open_count == 0 and events.of("execution") == []


def test_closing_fill_reports_closed_size_and_realised_pnl(exchange: Exchange) -> None:
    events = Events(exchange)
    exchange.place(req(exchange, side="Buy", orderType="Market", qty="0.004"))
    exchange.place(req(exchange, side="Sell", orderType="Market", qty="0.006"))
    sells = [e for e in events.of("execution") if e["side"] == "Sell"]
    assert sum(Decimal(e["closedSize"]) for e in sells) == Decimal("0.004")
    position = events.of("position")[-1]
    assert (position["side"], position["size"]) == ("Sell", "0.002")
    fees = sum(Decimal(e["execFee"]) for e in events.of("execution"))
    pnl = sum(Decimal(e["execPnl"]) for e in events.of("execution"))
    assert Decimal(position["cumRealisedPnl"]) == pnl - fees


def test_amend_down_keeps_queue_position_amend_up_loses_it(exchange: Exchange) -> None:
    bid, _ = best(exchange)
    first = exchange.place(req(exchange, side="Buy", price=str(bid - 30), qty="0.003"))
    second = exchange.place(req(exchange, side="Buy", price=str(bid - 30), qty="0.003"))
    market = exchange.markets[(Category.LINEAR, "BTCUSDT")]
    level = market.book.bids.levels[first.price_ticks]

    def queue() -> list[Any]:
        return [(e.order, e.lots) for e in level.entries if e.order is not None]

    exchange.amend(first, lots=2, price_ticks=None)
    assert queue() == [(first, 2), (second, 3)]
    exchange.amend(first, lots=5, price_ticks=None)
    assert queue() == [(second, 3), (first, 5)]


def test_a_stop_fires_on_the_print_through_its_trigger_not_at_the_next_tick(
        exchange: Exchange) -> None:
    """A buy stop a few ticks above the last price fires as soon as a trade prints through the
    trigger (Bybit triggers on the last price as it moves), even if the price is back below
    before the next market tick: no step() runs in this test."""
    from bot.sim.conditional import ConditionalOrders
    from bot.sim.orders import Status

    events = Events(exchange)
    stops = ConditionalOrders(exchange)
    market = exchange.markets[(Category.LINEAR, "BTCUSDT")]
    last = market.last_trade_ticks
    inst = market.inst
    trigger = inst.price_str(last + 3)
    stop = stops.create({"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                         "orderType": "Market", "qty": "0.001", "triggerPrice": trigger,
                         "triggerDirection": 1})
    assert stop.status is Status.UNTRIGGERED
    exchange.flush()
    assert stop.order_id in {o.order_id for o in stops.all_waiting([inst])}
    # A taker lifts the offer through the trigger, then one sells back below it: no tick.
    for is_buy in (True, False):
        book_side = market.book.asks if is_buy else market.book.bids
        levels = 0
        while (market.last_trade_ticks <= last + 3) if is_buy else (
                market.last_trade_ticks > last):
            exchange.taker_trade(market, is_buy=is_buy, lots=max(1, book_side.top(1)[0][1]),
                                 now=exchange.clock.now_ms())
            levels += 1
            assert levels < 500
        exchange.flush()
    assert not stops.all_waiting([inst])
    statuses = [o["orderStatus"] for o in events.of("order") if o["orderId"] == stop.order_id]
    assert "Triggered" in statuses and statuses[-1] == "Filled", statuses
