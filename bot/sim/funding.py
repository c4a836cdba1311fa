"""Funding of perpetual positions at Bybit's schedule (every 8 h: 00:00, 08:00, 16:00 UTC).

At each funding time every open linear position pays ``position value at mark x rate`` (longs
pay shorts when the rate is positive), booked on the USDT wallet and reported as an
``execution`` with ``execType: "Funding"``, as Bybit does (docs/bybit-v5.md §8). The interval
and the rate are configuration (``funding_interval_s``, ``funding_rate``) so tests need not
wait eight hours.
"""

from __future__ import annotations

from decimal import Decimal

from bot.sim.account import dec_str
from bot.sim.engine import Exchange
from bot.sim.wire import dumps


class Funding:
    def __init__(self, exchange: Exchange, interval_s: float, rate: Decimal) -> None:
        self.exchange = exchange
        self.interval_ms = max(1, int(interval_s * 1000))
        self.rate = rate
        self.next_ms = self._next(exchange.clock.now_ms())
        self.settlements = 0

    def _next(self, now_ms: int) -> int:
        return (now_ms // self.interval_ms + 1) * self.interval_ms

    def check(self) -> None:
        """Settle if a funding time passed (called every second or so)."""
        now = self.exchange.clock.now_ms()
        if now < self.next_ms:
            return
        stamp, self.next_ms = self.next_ms, self._next(now)
        self.settle(stamp)

    def settle(self, stamp_ms: int) -> None:
        exchange = self.exchange
        account = exchange.account
        marks = exchange.marks()
        for symbol, pos in account.positions.items():
            if pos.size == 0:
                continue
            inst = pos.instrument
            mark = marks[symbol]
            fee = pos.size * mark * self.rate  # > 0: paid (long, positive rate)
            account.balances[inst.quote_coin] = (
                account.balances.get(inst.quote_coin, Decimal(0)) - fee
            )
            pos.cum_realised -= fee
            pos.cur_realised -= fee
            item = {
                "category": "linear",
                "symbol": symbol,
                "closedSize": "0",
                "execFee": dec_str(fee),
                "execId": exchange.new_id(),
                "execPrice": dec_str(mark),
                "execQty": inst.qty_str(int(abs(pos.size) / inst.qty_step)),
                "execType": "Funding",
                "execValue": dec_str(abs(pos.size) * mark),
                "feeRate": dec_str(self.rate),
                "markPrice": dec_str(mark),
                "indexPrice": dec_str(mark),
                "leavesQty": "0",
                "orderId": "",
                "orderLinkId": "",
                "orderPrice": "0",
                "orderQty": "0",
                "orderType": "UNKNOWN",
                "stopOrderType": "UNKNOWN",
                "side": "Sell" if pos.size > 0 else "Buy",
                "execTime": str(stamp_ms),
                "isLeverage": "0",
                "isMaker": False,
                "seq": 0,
                "marketUnit": "",
                "execPnl": "0",
                "createType": "",
                "extraFees": "",
                "feeCurrency": inst.quote_coin,
                "blockTradeId": "",
                "underlyingPrice": "",
                "tradeIv": "",
                "markIv": "",
            }
            account.executions.append(("linear", symbol, "", "", dumps(item)))
            exchange.emit_execution(item, inst)
            self.settlements += 1
        exchange.flush()
