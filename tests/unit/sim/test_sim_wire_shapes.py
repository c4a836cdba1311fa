"""Wire shapes against Bybit's own samples (docs/bybit-v5.md §4, §7): every field a documented
payload has, ours has too, with the same JSON type — so a client cannot tell them apart."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest

from bot.sim.clock import FakeClock
from bot.sim.config import SimConfig
from bot.sim.engine import Exchange
from bot.sim.instruments import Category
from bot.sim.tickers import ticker
from bot.sim.validate import parse_create

# Samples as documented (bybit-v5.md), trimmed to one item each.
DOC_ORDER = {
    "category": "linear",
    "symbol": "BTCUSDT",
    "orderId": "1321003749386327552",
    "orderLinkId": "mm-b-1",
    "side": "Buy",
    "orderType": "Limit",
    "timeInForce": "PostOnly",
    "price": "25000",
    "qty": "0.001",
    "orderStatus": "New",
    "cancelType": "UNKNOWN",
    "rejectReason": "EC_NoError",
    "avgPrice": "",
    "leavesQty": "0.001",
    "leavesValue": "25",
    "cumExecQty": "0",
    "cumExecValue": "0",
    "cumExecFee": "0",
    "cumFeeDetail": {},
    "positionIdx": 0,
    "reduceOnly": False,
    "closeOnTrigger": False,
    "stopOrderType": "",
    "triggerPrice": "",
    "takeProfit": "",
    "stopLoss": "",
    "createType": "CreateByUser",
    "smpType": "None",
    "smpGroup": 0,
    "smpOrderId": "",
    "createdTime": "1672364262444",
    "updatedTime": "1672364262457",
}
DOC_REALTIME_EXTRA = {
    "blockTradeId": "",
    "isLeverage": "",
    "orderIv": "",
    "tpTriggerBy": "LastPrice",
    "slTriggerBy": "LastPrice",
    "triggerDirection": 0,
    "triggerBy": "UNKNOWN",
    "lastPriceOnCreated": "",
    "tpslMode": "Full",
    "tpLimitPrice": "",
    "slLimitPrice": "",
    "placeType": "",
}
DOC_EXECUTION = {
    "category": "linear",
    "symbol": "BTCUSDT",
    "closedSize": "0.5",
    "execFee": "26.3725275",
    "execId": "0ab1bdf7-4219-438b-b30a-32ec863018f7",
    "execPrice": "95900.1",
    "execQty": "0.5",
    "execType": "Trade",
    "execValue": "47950.05",
    "feeRate": "0.00055",
    "markPrice": "95901.48",
    "leavesQty": "0",
    "orderId": "9aac161b-8ed6-450d-9cab-c5cc67c21784",
    "orderLinkId": "",
    "orderPrice": "94942.5",
    "orderQty": "0.5",
    "orderType": "Market",
    "stopOrderType": "UNKNOWN",
    "side": "Sell",
    "execTime": "1746270400353",
    "isLeverage": "0",
    "isMaker": False,
    "seq": 140612148849382,
    "marketUnit": "",
    "execPnl": "0.05",
    "createType": "CreateByUser",
    "extraFees": "",
    "feeCurrency": "USDT",
}
DOC_POSITION_WS = {
    "positionIdx": 2,
    "tradeMode": 0,
    "riskId": 1,
    "riskLimitValue": "2000000",
    "symbol": "BTCUSDT",
    "side": "",
    "size": "0",
    "entryPrice": "0",
    "leverage": "10",
    "breakEvenPrice": "93556.73",
    "positionValue": "0",
    "positionBalance": "0",
    "markPrice": "28184.5",
    "positionIM": "0",
    "positionMM": "0",
    "takeProfit": "0",
    "stopLoss": "0",
    "trailingStop": "0",
    "unrealisedPnl": "0",
    "curRealisedPnl": "1.26",
    "cumRealisedPnl": "-25.06579337",
    "sessionAvgPrice": "0",
    "createdTime": "1694402496913",
    "updatedTime": "1697682317038",
    "tpslMode": "Full",
    "liqPrice": "0",
    "bustPrice": "",
    "category": "linear",
    "positionStatus": "Normal",
    "adlRankIndicator": 0,
    "autoAddMargin": 0,
    "seq": 8327597863,
    "isReduceOnly": False,
}
DOC_WALLET = {
    "accountIMRate": "0",
    "accountMMRate": "0",
    "totalEquity": "10262.91335023",
    "totalWalletBalance": "9684.46297164",
    "totalMarginBalance": "9684.46297164",
    "totalAvailableBalance": "9556.6056555",
    "totalPerpUPL": "0",
    "totalInitialMargin": "0",
    "totalMaintenanceMargin": "0",
    "accountLTV": "0",
    "accountType": "UNIFIED",
}
DOC_WALLET_COIN = {
    "coin": "BTC",
    "equity": "0.00102964",
    "usdValue": "36.70759517",
    "walletBalance": "0.00102964",
    "availableToWithdraw": "0.00102964",
    "borrowAmount": "0",
    "accruedInterest": "0",
    "totalOrderIM": "",
    "totalPositionIM": "",
    "totalPositionMM": "",
    "unrealisedPnl": "0",
    "cumRealisedPnl": "-0.00000973",
    "bonus": "0",
    "collateralSwitch": True,
    "marginCollateral": True,
    "locked": "0",
    "spotHedgingQty": "0.01592413",
    "spotBorrow": "0",
}
DOC_TICKER_LINEAR = {
    "symbol": "BTCUSDT",
    "tickDirection": "MinusTick",
    "price24hPcnt": "-0.158315",
    "lastPrice": "66666.60",
    "prevPrice24h": "79206.20",
    "highPrice24h": "79266.30",
    "lowPrice24h": "65076.90",
    "prevPrice1h": "66666.60",
    "markPrice": "66666.60",
    "indexPrice": "115418.19",
    "openInterest": "492373.72",
    "openInterestValue": "3282488",
    "turnover24h": "4936790807.6521",
    "volume24h": "73191.3870",
    "fundingIntervalHour": "8",
    "fundingCap": "0.005",
    "nextFundingTime": "1760342400000",
    "fundingRate": "-0.005",
    "bid1Price": "66666.60",
    "bid1Size": "23789.165",
    "ask1Price": "66666.70",
    "ask1Size": "23775.469",
    "preOpenPrice": "",
    "preQty": "",
    "curPreListingPhase": "",
}
DOC_TICKER_SPOT = {
    "symbol": "BTCUSDT",
    "lastPrice": "1",
    "highPrice24h": "1",
    "lowPrice24h": "1",
    "prevPrice24h": "1",
    "volume24h": "1",
    "turnover24h": "1",
    "price24hPcnt": "0",
    "usdIndexPrice": "1",
}


def same_shape(doc: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """Problems: documented keys we lack, or whose JSON type differs."""
    problems = []
    for key, value in doc.items():
        if key not in ours:
            problems.append(f"missing {key}")
        elif type(ours[key]) is not type(value):
            problems.append(f"{key}: {type(ours[key]).__name__} vs {type(value).__name__}")
    return problems


@pytest.fixture
def traded() -> tuple[Exchange, dict[str, list[dict[str, Any]]]]:
    exchange = Exchange(SimConfig(seed=3), FakeClock())
    exchange.private_listeners = 1
    pushes: dict[str, list[dict[str, Any]]] = {}
    exchange.on_private = lambda topic, data: pushes.setdefault(topic, []).extend(data)
    base = {"category": "linear", "symbol": "BTCUSDT", "qty": "0.002"}
    exchange.place(parse_create(exchange, {**base, "side": "Buy", "orderType": "Market"}))
    exchange.place(parse_create(exchange, {**base, "side": "Sell", "orderType": "Market"}))
    market = exchange.markets[(Category.LINEAR, "BTCUSDT")]
    bid = market.inst.price_str((market.book.bids.best() or 0) - 100)
    exchange.place(
        parse_create(
            exchange,
            {**base, "side": "Buy", "orderType": "Limit", "price": bid, "orderLinkId": "shape-1"},
        )
    )
    return exchange, pushes


def test_private_pushes_have_every_documented_field(traded: Any) -> None:
    exchange, pushes = traded
    for order in pushes["order"]:
        assert same_shape(DOC_ORDER, order) == []
        assert same_shape(DOC_REALTIME_EXTRA, order) == []
    for execution in pushes["execution"]:
        assert same_shape(DOC_EXECUTION, execution) == []
    assert Decimal(pushes["execution"][-1]["closedSize"]) == Decimal("0.002")
    for position in pushes["position"]:
        assert same_shape(DOC_POSITION_WS, position) == []
    wallet = pushes["wallet"][-1]
    assert same_shape(DOC_WALLET, wallet) == []
    assert same_shape(DOC_WALLET_COIN, wallet["coin"][0]) == []
    stored = orjson.loads(exchange.account.executions[-1][-1])
    assert same_shape(DOC_EXECUTION, stored) == []


def test_rest_position_uses_avg_price_and_tickers_match(traded: Any) -> None:
    exchange, _ = traded
    inst = exchange.instruments[(Category.LINEAR, "BTCUSDT")]
    rest = exchange.account.position(inst).to_wire(Decimal(95000), ws=False)
    assert "avgPrice" in rest and "entryPrice" not in rest
    linear = ticker(exchange.markets[(Category.LINEAR, "BTCUSDT")], 0)
    assert same_shape(DOC_TICKER_LINEAR, linear) == []
    spot = ticker(exchange.markets[(Category.SPOT, "BTCUSDT")], 0)
    assert same_shape(DOC_TICKER_SPOT, spot) == []
