"""The simulator's instruments: tick size, qty step, limits, start price, and wire rendering.

Inside the simulator prices are integer ticks and quantities integer lots (qty steps), so the
matching engine never compares floats; this module converts between those integers and the
decimal strings Bybit puts on the wire (``"95000.10"``, ``"0.001"``), and renders the
``/v5/market/instruments-info`` items (docs/bybit-v5.md §4) for linear and spot categories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    LINEAR = "linear"
    SPOT = "spot"


def fmt_fixed(units: int, scale: int) -> str:
    """``units`` of ``10**-scale`` as fixed point: ``fmt_fixed(950001, 1) == "95000.1"``."""
    if scale == 0:
        return str(units)
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**scale)
    return f"{sign}{whole}.{frac:0{scale}d}"


def _scale_of(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def parse_decimal(text: object) -> Decimal | None:
    """A finite Decimal from a wire value (string or number), else ``None``."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        return None
    raw = str(text).strip()
    if len(raw) > 40 or not raw.isascii():  # Decimal would read "٣" as 3; Bybit would not
        return None
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        return None
    # Bounded magnitude keeps every later division and quantize inside Decimal's context.
    if not value.is_finite() or (value != 0 and not -12 <= value.adjusted() <= 12):
        return None
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """One tradable symbol in one category; all sizes in wire units (Decimal)."""

    category: Category
    symbol: str
    base_coin: str
    quote_coin: str
    tick_size: Decimal
    qty_step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    start_price: Decimal
    price_scale: int  # decimals shown for prices (Bybit's priceScale)
    daily_vol: float = 0.02  # volatility of the mid-price process per day (fraction)
    level_size_mean: Decimal = Decimal("0.5")  # mean synthetic size per book level
    level_spacing_ticks: int = 1  # synthetic levels beyond the touch sit on this tick grid
    tick_units: int = field(init=False)  # tick size in units of 10**-price_scale
    qty_scale: int = field(init=False)  # decimals of the qty step

    def __post_init__(self) -> None:
        # Derived once: these sit on the hot path of every price and qty rendered.
        object.__setattr__(self, "tick_units", int(self.tick_size * 10**self.price_scale))
        object.__setattr__(self, "qty_scale", _scale_of(self.qty_step))

    def price_str(self, ticks: int) -> str:
        return fmt_fixed(ticks * self.tick_units, self.price_scale)

    def qty_str(self, lots: int) -> str:
        return fmt_fixed(lots, self.qty_scale)

    def price_dec(self, ticks: int) -> Decimal:
        return self.tick_size * ticks

    def qty_dec(self, lots: int) -> Decimal:
        return self.qty_step * lots

    def to_ticks(self, price: Decimal) -> int | None:
        """Integer ticks, or ``None`` when ``price`` is not a multiple of the tick size."""
        ticks, rest = divmod(price, self.tick_size)
        return int(ticks) if rest == 0 else None

    def to_lots(self, qty: Decimal) -> int | None:
        lots, rest = divmod(qty, self.qty_step)
        return int(lots) if rest == 0 else None

    @property
    def key(self) -> tuple[Category, str]:
        return (self.category, self.symbol)

    def info(self) -> dict[str, Any]:
        """The ``/v5/market/instruments-info`` list item for this instrument."""
        tick = str(self.tick_size)
        if self.category is Category.SPOT:
            return {
                "symbol": self.symbol,
                "baseCoin": self.base_coin,
                "quoteCoin": self.quote_coin,
                "innovation": "0",
                "status": "Trading",
                "marginTrading": "utaOnly",
                "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": str(self.qty_step),
                    "quotePrecision": "0.00000001",
                    "minOrderQty": str(self.min_qty),
                    "maxOrderQty": str(self.max_qty),
                    "minOrderAmt": str(self.min_notional),
                    "maxOrderAmt": "8000000",
                    "maxLimitOrderQty": str(self.max_qty),
                    "maxMarketOrderQty": str(self.max_qty / 2),
                    "postOnlyMaxLimitOrderSize": "60000",
                },
                "priceFilter": {"tickSize": tick},
                "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
            }
        return {
            "symbol": self.symbol,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": self.base_coin,
            "quoteCoin": self.quote_coin,
            "launchTime": "1585526400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(self.price_scale),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {
                "minPrice": tick,
                "maxPrice": str(self.tick_size * 19999998),
                "tickSize": tick,
            },
            "lotSizeFilter": {
                "maxOrderQty": str(self.max_qty),
                "minOrderQty": str(self.min_qty),
                "qtyStep": str(self.qty_step),
                "postOnlyMaxOrderQty": str(self.max_qty),
                "maxMktOrderQty": str(self.max_qty / 2),
                "minNotionalValue": str(self.min_notional),
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoin": self.quote_coin,
            "copyTrading": "both",
            "upperFundingRate": "0.00375",
            "lowerFundingRate": "-0.00375",
            "isPreListing": False,
            "preListingInfo": None,
            "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            "symbolType": "",
        }


def default_instruments() -> tuple[Instrument, ...]:
    """BTCUSDT and ETHUSDT perpetuals and BTCUSDT spot, with Bybit's real filters (2026)."""
    return (
        Instrument(
            category=Category.LINEAR,
            symbol="BTCUSDT",
            base_coin="BTC",
            quote_coin="USDT",
            tick_size=Decimal("0.10"),
            qty_step=Decimal("0.001"),
            min_qty=Decimal("0.001"),
            max_qty=Decimal("1190.000"),
            min_notional=Decimal("5"),
            start_price=Decimal("95000.00"),
            price_scale=2,
            level_size_mean=Decimal("0.6"),
        ),
        Instrument(
            category=Category.LINEAR,
            symbol="ETHUSDT",
            base_coin="ETH",
            quote_coin="USDT",
            tick_size=Decimal("0.01"),
            qty_step=Decimal("0.01"),
            min_qty=Decimal("0.01"),
            max_qty=Decimal("7240.00"),
            min_notional=Decimal("5"),
            start_price=Decimal("3500.00"),
            price_scale=2,
            level_size_mean=Decimal("8"),
        ),
        Instrument(
            category=Category.SPOT,
            symbol="BTCUSDT",
            base_coin="BTC",
            quote_coin="USDT",
            tick_size=Decimal("0.01"),
            qty_step=Decimal("0.000001"),
            min_qty=Decimal("0.000048"),
            max_qty=Decimal("71.73956243"),
            min_notional=Decimal("1"),
            start_price=Decimal("95010.00"),
            price_scale=2,
            level_size_mean=Decimal("0.2"),
            level_spacing_ticks=10,
        ),
    )
