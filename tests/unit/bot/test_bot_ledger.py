"""Fills: the fee sign (negative = rebate), once per exec id, position and PnL; and the Bybit
venue's conversion of executions and positions to the domain types the ledger books."""

from __future__ import annotations

from decimal import Decimal

from bot.bybit_v5.schemas import ExecutionItem
from bot.domain import Fill, Position, Side
from bot.ledger import Ledger
from bot.venues.bybit.schemas import execution, position


def _wire(exec_id: str, side: str, qty: str, price: str, fee: str) -> ExecutionItem:
    return {
        "execId": exec_id,
        "execType": "Trade",
        "symbol": "BTCUSDT",
        "side": "Buy" if side == "Buy" else "Sell",
        "execQty": qty,
        "execPrice": price,
        "execFee": fee,
        "isMaker": fee.startswith("-"),
        "execTime": "1700000000000",
    }


def _fill(exec_id: str, side: str, qty: str, price: str, fee: str) -> Fill:
    fill = execution(_wire(exec_id, side, qty, price, fee))
    assert fill is not None
    return fill


def test_maker_rebate_and_round_trip() -> None:
    ledger = Ledger()
    buy = _fill("e1", "Buy", "0.010", "100000", "-0.05")
    assert buy.maker and buy.side is Side.BUY and buy.time_ms == 1700000000000
    assert ledger.apply_fill(buy)
    assert ledger.position == Decimal("0.010")
    assert ledger.cash == Decimal("-1000.00") + Decimal("0.05")
    ledger.apply_fill(_fill("e2", "Sell", "0.010", "100010", "-0.05"))
    assert ledger.position == 0
    assert ledger.rebates == Decimal("0.10") and ledger.fees == 0
    assert ledger.pnl(Decimal(99999)) == Decimal("0.10") + Decimal("0.10")  # spread + rebates


def test_each_exec_id_once_and_funding_ignored() -> None:
    ledger = Ledger()
    assert ledger.apply_fill(_fill("e1", "Sell", "1", "10", "0.1"))
    assert not ledger.apply_fill(_fill("e1", "Sell", "1", "10", "0.1"))
    assert execution({**_wire("f", "Buy", "1", "10", "0"), "execType": "Funding"}) is None
    assert ledger.position == -1 and ledger.fees == Decimal("0.1") and ledger.fills == 1
    ledger.set_position(position({"symbol": "BTCUSDT", "size": "0.5", "side": "Buy"}))
    assert ledger.position == Decimal("0.5")


def test_wire_positions_are_signed_with_rest_or_stream_price() -> None:
    short = position({"symbol": "BTCUSDT", "size": "0.3", "side": "Sell", "avgPrice": "95000"})
    assert short == Position("BTCUSDT", Decimal("-0.3"), Decimal(95000))
    stream = position({"symbol": "BTCUSDT", "size": "0", "side": "", "entryPrice": "0"})
    assert stream.size == 0
