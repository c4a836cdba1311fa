"""The traded instrument's filters and the rounding the bot must get right.

Prices inside the bot are integer ticks and quantities integer lots (qty steps): the book and
the strategy never compare floats. This module converts wire decimal strings to and from those
integers (a fast fixed-point parser, used on every book level), rounds bid prices down and ask
prices up to the tick, quantities down to the step, and sizes a quote to pass the venue's minimum
quantity and notional (a venue fills these from its own listing, e.g.
``bot.venues.bybit.schemas.instrument``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal


def _scale_of(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def parse_units(text: str, scale: int) -> int:
    """``text`` (a non-negative decimal string) in units of ``10**-scale``, truncating excess
    digits: ``parse_units("30247.2", 2) == 3024720``. About 4x faster than ``Decimal``."""
    whole, _, frac = text.partition(".")
    frac = frac[:scale] if len(frac) >= scale else frac + "0" * (scale - len(frac))
    return int(whole + frac) if whole or frac else 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    symbol: str
    tick_size: Decimal
    qty_step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    price_scale: int = field(init=False)
    tick_units: int = field(init=False)

    def __post_init__(self) -> None:
        scale = _scale_of(self.tick_size)
        object.__setattr__(self, "price_scale", scale)
        object.__setattr__(self, "tick_units", int(self.tick_size.scaleb(scale)))

    # ---- prices -------------------------------------------------------------------------
    def price_to_ticks(self, price: str) -> int:
        """Wire price to ticks, rounding down (a bid-side convention; exact on valid prices)."""
        return parse_units(price, self.price_scale) // self.tick_units

    def tick_parser(self) -> Callable[[str], int]:
        """A specialised :meth:`price_to_ticks` for the hot path (one per book)."""
        scale, units = self.price_scale, self.tick_units
        pad = ["0" * (scale - n) for n in range(scale + 1)]

        def to_ticks(price: str) -> int:
            whole, _, frac = price.partition(".")
            frac = frac[:scale] if len(frac) >= scale else frac + pad[len(frac)]
            return int(whole + frac) // units

        return to_ticks

    def ticks_to_price(self, ticks: int) -> str:
        """Ticks to a wire string at the tick's precision (``950001`` -> ``"95000.1"``)."""
        units = ticks * self.tick_units
        scale = self.price_scale
        if scale == 0:
            return str(units)
        whole, frac = divmod(units, 10**scale)
        return f"{whole}.{frac:0{scale}d}"

    def round_price(self, price: Decimal, side: str) -> Decimal:
        """A valid price never more aggressive than ``price``: bids down, asks up."""
        rounding = ROUND_FLOOR if side == "Buy" else ROUND_CEILING
        return (price / self.tick_size).to_integral_value(rounding) * self.tick_size

    # ---- quantities ---------------------------------------------------------------------
    def round_qty(self, qty: Decimal) -> Decimal:
        """Down to the step (never more than asked)."""
        return (qty / self.qty_step).to_integral_value(ROUND_FLOOR) * self.qty_step

    def quote_qty(self, qty: Decimal, price: Decimal) -> Decimal:
        """``qty`` rounded to the step, raised to the minimum qty and notional; 0 if over max."""
        lots = (qty / self.qty_step).to_integral_value(ROUND_FLOOR)
        lots = max(lots, (self.min_qty / self.qty_step).to_integral_value(ROUND_CEILING))
        if price > 0 and self.min_notional > 0:
            need = (self.min_notional / (price * self.qty_step)).to_integral_value(ROUND_CEILING)
            lots = max(lots, need)
        result = lots * self.qty_step
        return result if result <= self.max_qty else Decimal(0)

    def qty_str(self, qty: Decimal) -> str:
        return f"{qty.quantize(self.qty_step):f}"
