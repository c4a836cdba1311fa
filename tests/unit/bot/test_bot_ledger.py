"""Fills: Bybit's fee sign (negative = rebate), once per execId, position and PnL."""

from __future__ import annotations

from decimal import Decimal

from bot.ledger import Ledger


def _fill(exec_id: str, side: str, qty: str, price: str, fee: str) -> dict[str, object]:
    return {
        "execId": exec_id,
        "execType": "Trade",
        "symbol": "BTCUSDT",
        "side": side,
        "execQty": qty,
        "execPrice": price,
        "execFee": fee,
        "isMaker": fee.startswith("-"),
    }


def test_maker_rebate_and_round_trip() -> None:
    ledger = Ledger()
    buy = ledger.apply_execution(_fill("e1", "Buy", "0.010", "100000", "-0.05"))
    assert buy is not None and buy.maker
    assert ledger.position == Decimal("0.010")
    assert ledger.cash == Decimal("-1000.00") + Decimal("0.05")
    ledger.apply_execution(_fill("e2", "Sell", "0.010", "100010", "-0.05"))
    assert ledger.position == 0
    assert ledger.rebates == Decimal("0.10") and ledger.fees == 0
    assert ledger.pnl(Decimal(99999)) == Decimal("0.10") + Decimal("0.10")  # spread + rebates


def test_each_exec_id_once_and_funding_ignored() -> None:
    ledger = Ledger()
    assert ledger.apply_execution(_fill("e1", "Sell", "1", "10", "0.1")) is not None
    assert ledger.apply_execution(_fill("e1", "Sell", "1", "10", "0.1")) is None
    assert (
        ledger.apply_execution({**_fill("f", "Buy", "1", "10", "0"), "execType": "Funding"}) is None
    )
    assert ledger.position == -1 and ledger.fees == Decimal("0.1") and ledger.fills == 1
    ledger.set_position({"size": "0.5", "side": "Buy"})
    assert ledger.position == Decimal("0.5")
