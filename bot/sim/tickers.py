"""Ticker fields of one symbol, shared by ``GET /v5/market/tickers`` and the ``tickers`` stream.

Shapes per bybit-v5.md §7: derivatives carry mark/index/funding/open-interest fields, spot a
short set. Statistics are since simulator start (a stand-in for the 24h window).
"""

from __future__ import annotations

from decimal import Decimal

from bot.sim.account import dec_str
from bot.sim.instruments import Category
from bot.sim.market import SymbolMarket

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
