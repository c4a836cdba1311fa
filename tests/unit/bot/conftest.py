"""Helpers shared by the bot's unit tests."""

from __future__ import annotations

from decimal import Decimal

from bot.instrument import Instrument

#: BTCUSDT's linear-perpetual filters (docs/bybit-v5.md §4), the instrument most tests quote.
BTC = Instrument(
    symbol="BTCUSDT",
    tick_size=Decimal("0.1"),
    qty_step=Decimal("0.001"),
    min_qty=Decimal("0.001"),
    max_qty=Decimal(100),
    min_notional=Decimal(5),
)
