"""Ticker fields of one symbol (``GET /v5/market/tickers``) and the ``tickers`` stream.

Shapes per docs/bybit-v5.md §7: derivatives carry mark/index/funding/open-interest fields, spot a
short set. Statistics are since simulator start (a stand-in for the 24h window). The stream
sends a snapshot on subscribe, then linear sends only the changed fields as ``delta`` every
100 ms and spot a full ``snapshot`` every 50 ms.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from bot.sim.account import dec_str
from bot.sim.instruments import Category
from bot.sim.market import SymbolMarket
from bot.sim.wire import dumps

if TYPE_CHECKING:
    from bot.sim.engine import Exchange
    from bot.sim.wsconn import WsConnection

FUNDING_INTERVAL_MS = 8 * 3600 * 1000


def ticker(market: SymbolMarket, now_ms: int) -> dict[str, str]:
    inst = market.inst
    book = market.book
    bid, ask = book.bids.best(), book.asks.best()
    last = market.last_trade_ticks
    change = (
        (Decimal(last - market.open_ticks) / market.open_ticks) if market.open_ticks else Decimal(0)
    )
    common = {
        "symbol": inst.symbol,
        "lastPrice": inst.price_str(last),
        "highPrice24h": inst.price_str(market.high_ticks),
        "lowPrice24h": inst.price_str(market.low_ticks),
        "prevPrice24h": inst.price_str(market.open_ticks),
        "volume24h": inst.qty_str(market.volume_lots),
        "turnover24h": dec_str(market.turnover),
        "price24hPcnt": f"{change:.6f}",
    }
    if inst.category is Category.SPOT:
        common["usdIndexPrice"] = dec_str(market.mark())
        return common
    mark = dec_str(market.mark())
    next_funding = (now_ms // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS
    common.update(
        tickDirection="ZeroPlusTick",
        prevPrice1h=inst.price_str(market.open_ticks),
        markPrice=mark,
        indexPrice=mark,
        openInterest="50000",
        openInterestValue=dec_str(market.mark() * 50000),
        fundingIntervalHour="8",
        fundingCap="0.005",
        nextFundingTime=str(next_funding),
        fundingRate="0.0001",
        bid1Price=inst.price_str(bid) if bid is not None else "",
        bid1Size=inst.qty_str(book.bids.levels[bid].total) if bid is not None else "",
        ask1Price=inst.price_str(ask) if ask is not None else "",
        ask1Size=inst.qty_str(book.asks.levels[ask].total) if ask is not None else "",
        preOpenPrice="",
        preQty="",
        curPreListingPhase="",
    )
    return common


class TickerFeed:
    """Subscribers and last-sent state of every ``tickers.{symbol}`` topic."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.subs: dict[tuple[Category, str], set[WsConnection]] = {}
        self._last: dict[tuple[Category, str], dict[str, str]] = {}

    def _message(self, topic: str, kind: str, data: dict[str, str]) -> bytes:
        now = self.exchange.clock.now_ms()
        return dumps({"topic": topic, "type": kind, "data": data, "cs": now, "ts": now})

    def subscribe(self, category: Category, topic: str, conn: WsConnection) -> None:
        key = (category, topic)
        self.subs.setdefault(key, set()).add(conn)
        if key not in self._last:
            market = self.exchange.markets[(category, topic.rpartition(".")[2])]
            self._last[key] = ticker(market, self.exchange.clock.now_ms())
        conn.send(self._message(topic, "snapshot", self._last[key]))

    def unsubscribe(self, category: Category, topic: str, conn: WsConnection) -> None:
        key = (category, topic)
        subs = self.subs.get(key)
        if subs is not None:
            subs.discard(conn)
            if not subs:
                del self.subs[key]
                self._last.pop(key, None)

    def publish(self, category: Category) -> None:
        """One ticker step for ``category``."""
        for (cat, topic), subs in self.subs.items():
            if cat is not category or not subs:
                continue
            market = self.exchange.markets[(category, topic.rpartition(".")[2])]
            data = ticker(market, self.exchange.clock.now_ms())
            last = self._last.get((cat, topic), {})
            changed = {k: v for k, v in data.items() if last.get(k) != v}
            if not changed:
                continue
            self._last[(cat, topic)] = data
            if category is Category.SPOT:
                message = self._message(topic, "snapshot", data)
            else:
                message = self._message(topic, "delta", {"symbol": data["symbol"], **changed})
            for conn in list(subs):
                conn.send(message)
