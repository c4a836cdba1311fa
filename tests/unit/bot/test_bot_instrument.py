"""Rounding to tick and step, minimum qty and notional, and wire price conversion."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bot.bybit_v5.schemas import InstrumentItem
from bot.instrument import parse_units
from bot.venues.bybit.schemas import instrument

WIRE: InstrumentItem = {
    "symbol": "BTCUSDT",
    "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": "0.10"},
    "lotSizeFilter": {
        "maxOrderQty": "1190.000",
        "minOrderQty": "0.001",
        "qtyStep": "0.001",
        "minNotionalValue": "5",
    },
}
BTC = instrument(WIRE)


def test_from_wire() -> None:
    assert BTC.tick_size == Decimal("0.10") and BTC.min_notional == 5
    assert BTC.qty_step == Decimal("0.001") and BTC.max_qty == Decimal("1190")


def test_spot_item_uses_base_precision_and_min_amount() -> None:
    spot = instrument(
        {
            "symbol": "BTCUSDT",
            "priceFilter": {"tickSize": "0.01"},
            "lotSizeFilter": {
                "basePrecision": "0.000001",
                "minOrderQty": "0.000048",
                "maxOrderQty": "71.73956243",
                "minOrderAmt": "1",
            },
        }
    )
    assert spot.qty_step == Decimal("0.000001") and spot.min_notional == 1


def test_price_ticks_roundtrip() -> None:
    assert BTC.price_to_ticks("30247.20") == 302472
    assert BTC.price_to_ticks("30247.2") == 302472
    assert BTC.ticks_to_price(302472) == "30247.2"


def test_round_price_never_more_aggressive() -> None:
    assert BTC.round_price(Decimal("100.17"), "Buy") == Decimal("100.1")
    assert BTC.round_price(Decimal("100.11"), "Sell") == Decimal("100.2")


def test_quote_qty_minimums() -> None:
    assert BTC.quote_qty(Decimal("0.0015"), Decimal(100000)) == Decimal("0.001")
    # 0.001 BTC at 1000 USDT = 1 USDT < 5 USDT notional: raised to 0.005
    assert BTC.quote_qty(Decimal("0.001"), Decimal(1000)) == Decimal("0.005")
    assert BTC.quote_qty(Decimal(5000), Decimal(1)) == 0  # over max qty: don't quote
    assert BTC.qty_str(Decimal("0.005")) == "0.005"


@given(st.decimals(min_value=0, max_value=10**7, places=4, allow_nan=False))
def test_parse_units_matches_decimal(value: Decimal) -> None:
    assert parse_units(f"{value:f}", 4) == int(value * 10**4)


@given(st.decimals(min_value="0.001", max_value=10**6, places=3, allow_nan=False))
def test_rounding_is_on_grid(price: Decimal) -> None:
    for side in ("Buy", "Sell"):
        rounded = BTC.round_price(price, side)
        assert rounded % BTC.tick_size == 0
        assert abs(rounded - price) < BTC.tick_size
        assert (rounded <= price) if side == "Buy" else (rounded >= price)
