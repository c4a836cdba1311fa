"""The one simulated account: coin balances, linear positions, fees and the execution history.

Fees follow Bybit's sign convention (docs/bybit-v5.md §8): positive is paid, negative is a rebate,
``execFee = execValue × feeRate`` in the settle coin for linear; a rebate is credited to the
USDT wallet balance. Positions are one-way (``positionIdx`` 0) USDT perpetuals with average
entry price and realised PnL on reduction. History is bounded so memory stays flat in soaks.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.sim.instruments import Category, Instrument

ZERO = Decimal(0)
# Recent fills kept for /v5/execution/list, each as compact JSON bytes (~0.7 KB): small and
# quickly saturated, so a long run's memory is flat within minutes, not hours.
EXECUTION_HISTORY = 1_000
PRICE_DP = Decimal("0.00000001")
MM_RATE = Decimal("0.005")  # maintenance margin rate of the lowest risk tier


def dec_str(value: Decimal) -> str:
    """Plain (non-exponent) decimal string without trailing zeros."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


@dataclass(slots=True)
class Position:
    instrument: Instrument
    size: Decimal = ZERO  # signed: > 0 long, < 0 short
    avg_price: Decimal = ZERO
    cum_realised: Decimal = ZERO
    cur_realised: Decimal = ZERO
    created_ms: int = 0
    updated_ms: int = 0
    seq: int = 0
    last_closed: Decimal = ZERO  # qty the last fill closed (execution ``closedSize``)
    leverage: Decimal = Decimal(10)  # set by /v5/position/set-leverage; IM = value / leverage

    @property
    def value(self) -> Decimal:
        return abs(self.size) * self.avg_price

    @property
    def initial_margin(self) -> Decimal:
        return self.value / self.leverage

    @property
    def maintenance_margin(self) -> Decimal:
        return self.value * MM_RATE

    def apply(self, *, is_buy: bool, qty: Decimal, price: Decimal) -> Decimal:
        """Add a fill; returns the realised PnL of the part that reduced the position."""
        delta = qty if is_buy else -qty
        if self.size == 0 or (self.size > 0) == is_buy:
            total = abs(self.size) + qty
            self.avg_price = (self.avg_price * abs(self.size) + price * qty) / total
            self.size += delta
            self.last_closed = ZERO
            return ZERO
        closing = min(abs(self.size), qty)
        self.last_closed = closing
        direction = 1 if self.size > 0 else -1
        pnl = (price - self.avg_price) * closing * direction
        self.size += delta
        if self.size == 0:
            self.avg_price = ZERO
        elif (self.size > 0) != (direction > 0):
            self.avg_price = price  # flipped: the remainder opened at this fill's price
        return pnl

    def to_wire(self, mark: Decimal, *, ws: bool) -> dict[str, Any]:
        inst = self.instrument
        side = "" if self.size == 0 else ("Buy" if self.size > 0 else "Sell")
        value = abs(self.size) * self.avg_price
        upl = (mark - self.avg_price) * self.size if self.size else ZERO
        avg = self.avg_price.quantize(PRICE_DP)  # Bybit shows 8 decimals ("27464.50441675")
        wire: dict[str, Any] = {
            "category": "linear",
            "symbol": inst.symbol,
            "positionIdx": 0,
            "tradeMode": 0,
            "riskId": 1,
            "riskLimitValue": "2000000",
            "side": side,
            "size": inst.qty_str(int(abs(self.size) / inst.qty_step)),
            "positionValue": dec_str(value),
            "positionBalance": dec_str(self.initial_margin),
            "markPrice": dec_str(mark),
            "leverage": dec_str(self.leverage),
            "autoAddMargin": 0,
            "positionStatus": "Normal",
            "positionIM": dec_str(self.initial_margin),
            "positionMM": dec_str(self.maintenance_margin),
            "liqPrice": "",
            "bustPrice": "",
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "unrealisedPnl": dec_str(upl),
            "curRealisedPnl": dec_str(self.cur_realised),
            "cumRealisedPnl": dec_str(self.cum_realised),
            "adlRankIndicator": 0 if self.size == 0 else 2,
            "isReduceOnly": False,
            "tpslMode": "Full",
            "breakEvenPrice": dec_str(avg),
            "sessionAvgPrice": "",
            "createdTime": str(self.created_ms),
            "updatedTime": str(self.updated_ms),
            "seq": self.seq,
        }
        wire["entryPrice" if ws else "avgPrice"] = dec_str(avg)
        return wire


@dataclass(slots=True)
class Account:
    """Balances per coin, positions per linear symbol, fee rates, recent executions."""

    maker_fee: Decimal
    taker_fee: Decimal
    balances: dict[str, Decimal] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    # (category, symbol, orderId, orderLinkId, execution JSON)
    executions: deque[tuple[str, str, str, str, bytes]] = field(
        default_factory=lambda: deque(maxlen=EXECUTION_HISTORY)
    )
    cum_realised: Decimal = ZERO

    def leverage_of(self, inst: Instrument) -> Decimal:
        return self.position(inst).leverage if inst.category is Category.LINEAR else Decimal(1)

    def position(self, inst: Instrument) -> Position:
        pos = self.positions.get(inst.symbol)
        if pos is None:
            pos = self.positions[inst.symbol] = Position(inst)
        return pos

    def settle_fill(
        self, inst: Instrument, *, is_buy: bool, qty: Decimal, price: Decimal, is_maker: bool
    ) -> tuple[Decimal, Decimal, str, Decimal]:
        """Book a fill: returns ``(fee_rate, fee, fee_coin, realised_pnl)``."""
        rate = self.maker_fee if is_maker else self.taker_fee
        value = qty * price
        quote, base = inst.quote_coin, inst.base_coin
        if inst.category is Category.LINEAR:
            fee = value * rate
            pos = self.position(inst)
            pnl = pos.apply(is_buy=is_buy, qty=qty, price=price)
            pos.cur_realised += pnl - fee  # Bybit's realised PnL includes fees
            pos.cum_realised += pnl - fee
            self.cum_realised += pnl
            self.balances[quote] = self.balances.get(quote, ZERO) + pnl - fee
            return rate, fee, quote, pnl
        # Spot fee currency rule (docs/bybit-v5.md §8): rebate makers get Buy→quote, Sell→base;
        # otherwise Buy pays in base and Sell in quote.
        in_quote = (not is_buy) if (rate > 0 or not is_maker) else is_buy
        fee = value * rate if in_quote else qty * rate
        fee_coin = quote if in_quote else base
        sign = 1 if is_buy else -1
        self.balances[base] = self.balances.get(base, ZERO) + sign * qty
        self.balances[quote] = self.balances.get(quote, ZERO) - sign * value
        self.balances[fee_coin] -= fee
        return rate, fee, fee_coin, ZERO

    def unrealised(self, marks: dict[str, Decimal]) -> Decimal:
        return sum(
            ((marks.get(s, p.avg_price) - p.avg_price) * p.size for s, p in self.positions.items()),
            ZERO,
        )

    def wallet_wire(
        self,
        marks: dict[str, Decimal],
        usd_prices: dict[str, Decimal],
        *,
        order_im: Decimal = ZERO,
        locked: dict[str, Decimal] | None = None,
    ) -> dict[str, Any]:
        """The ``UNIFIED`` wallet: margins from positions (IM = value / leverage, MM at
        :data:`MM_RATE`) and open linear orders (``order_im``, USDT); spot orders lock what
        they may spend (``locked``). Available = wallet - IM - locked, so every figure agrees
        with ``position/list`` and the open orders (docs/simulator.md, "Account and margins")."""
        locked = locked or {}
        upl = self.unrealised(marks)
        position_im = sum((p.initial_margin for p in self.positions.values()), ZERO)
        position_mm = sum((p.maintenance_margin for p in self.positions.values()), ZERO)
        coins = []
        total_wallet = ZERO
        for coin, balance in sorted(self.balances.items()):
            usd = balance * usd_prices.get(coin, Decimal(1))
            total_wallet += usd
            is_settle = coin == "USDT"
            coin_upl = upl if is_settle else ZERO
            pos_im, pos_mm = (position_im, position_mm) if is_settle else (ZERO, ZERO)
            ord_im = order_im if is_settle else ZERO
            coin_locked = locked.get(coin, ZERO)
            available = max(ZERO, balance - pos_im - ord_im - coin_locked)
            coins.append(
                {
                    "coin": coin,
                    "equity": dec_str(balance + coin_upl),
                    "usdValue": dec_str(usd),
                    "walletBalance": dec_str(balance),
                    "availableToWithdraw": dec_str(available),
                    "availableToBorrow": "",
                    "borrowAmount": "0",
                    "accruedInterest": "0",
                    "totalOrderIM": dec_str(ord_im),
                    "totalPositionIM": dec_str(pos_im),
                    "totalPositionMM": dec_str(pos_mm),
                    "unrealisedPnl": dec_str(coin_upl),
                    "cumRealisedPnl": dec_str(self.cum_realised if is_settle else ZERO),
                    "bonus": "0",
                    "collateralSwitch": True,
                    "marginCollateral": True,
                    "locked": dec_str(coin_locked),
                    "spotHedgingQty": "0",
                    "spotBorrow": "0",
                }
            )
        equity = total_wallet + upl
        initial = position_im + order_im
        locked_usd = sum((v * usd_prices.get(c, Decimal(1)) for c, v in locked.items()), ZERO)
        return {
            "accountType": "UNIFIED",
            "accountIMRate": dec_str(_ratio(initial, equity)),
            "accountMMRate": dec_str(_ratio(position_mm, equity)),
            "accountLTV": "0",
            "totalEquity": dec_str(equity),
            "totalWalletBalance": dec_str(total_wallet),
            "totalMarginBalance": dec_str(equity),
            "totalAvailableBalance": dec_str(max(ZERO, equity - initial - locked_usd)),
            "totalPerpUPL": dec_str(upl),
            "totalInitialMargin": dec_str(initial),
            "totalMaintenanceMargin": dec_str(position_mm),
            "coin": coins,
        }


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole).quantize(Decimal("0.0001")) if whole > 0 else ZERO
