"""Bybit v5 message shapes, field names exactly as on the wire (docs/bybit-v5.md §3, §4, §7).

TypedDicts, so reading a message costs nothing at run time (the book path reads thousands a
second) while mypy checks every field name against these definitions. Numbers are decimal
strings unless typed otherwise, as Bybit sends them. The simulator renders these shapes; the
bot's Bybit venue reads them and converts each to a domain type (``bot.venues.bybit.schemas``).
``total=False`` marks shapes whose optional fields a client must not rely on.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class Envelope(TypedDict):
    """Every REST reply. Sample: ``{"retCode":0,"retMsg":"OK","result":{},"retExtInfo":{},
    "time":1671017382656}``."""

    retCode: int
    retMsg: str
    result: Any
    retExtInfo: Any
    time: int


class ServerTime(TypedDict):
    """``GET /v5/market/time`` result. Sample: ``{"timeSecond":"1688639403",
    "timeNano":"1688639403423213947"}``."""

    timeSecond: str
    timeNano: str


class PriceFilter(TypedDict, total=False):
    """Sample: ``{"minPrice":"0.10","maxPrice":"1999999.80","tickSize":"0.10"}`` (spot sends
    ``tickSize`` only)."""

    minPrice: str
    maxPrice: str
    tickSize: str


class LotSizeFilter(TypedDict, total=False):
    """Linear has ``qtyStep`` and ``minNotionalValue``; spot has ``basePrecision`` and
    ``minOrderAmt`` instead. Sample (linear): ``{"maxOrderQty":"1190.000","minOrderQty":"0.001",
    "qtyStep":"0.001","postOnlyMaxOrderQty":"1190.000","maxMktOrderQty":"500.000",
    "minNotionalValue":"5"}``."""

    maxOrderQty: str
    minOrderQty: str
    qtyStep: str
    minNotionalValue: str
    basePrecision: str
    quotePrecision: str
    minOrderAmt: str
    maxOrderAmt: str


class InstrumentItem(TypedDict):
    """One ``/v5/market/instruments-info`` item. Sample (linear, trimmed):
    ``{"symbol":"BTCUSDT","contractType":"LinearPerpetual","status":"Trading","baseCoin":"BTC",
    "quoteCoin":"USDT","priceScale":"2","priceFilter":{"minPrice":"0.10","maxPrice":
    "1999999.80","tickSize":"0.10"},"lotSizeFilter":{"maxOrderQty":"1190.000","minOrderQty":
    "0.001","qtyStep":"0.001","minNotionalValue":"5"}}``."""

    symbol: str
    status: NotRequired[str]
    baseCoin: NotRequired[str]
    quoteCoin: NotRequired[str]
    priceFilter: PriceFilter
    lotSizeFilter: LotSizeFilter


class OrderItem(TypedDict, total=False):
    """An order as ``/v5/order/realtime`` lists it and the ``order`` topic pushes it. Sample:
    ``{"category":"linear","symbol":"BTCUSDT","orderId":"1321003749386327552","orderLinkId":
    "mm-b-1","side":"Buy","orderType":"Limit","timeInForce":"PostOnly","price":"25000",
    "qty":"0.001","orderStatus":"New","rejectReason":"EC_NoError","leavesQty":"0.001",
    "cumExecQty":"0","positionIdx":0,"createdTime":"1672364262444","updatedTime":
    "1672364262457"}``."""

    category: str
    symbol: str
    orderId: str
    orderLinkId: str
    side: Literal["Buy", "Sell"]
    orderType: str
    timeInForce: str
    price: str
    qty: str
    orderStatus: str
    rejectReason: str
    leavesQty: str
    cumExecQty: str
    avgPrice: str
    positionIdx: int
    createdTime: str
    updatedTime: str


class ExecutionItem(TypedDict, total=False):
    """One fill, from ``/v5/execution/list`` or the ``execution`` topic. Sample:
    ``{"category":"linear","symbol":"BTCUSDT","execFee":"26.3725275","execId":
    "0ab1bdf7-4219-438b-b30a-32ec863018f7","execPrice":"95900.1","execQty":"0.5","execType":
    "Trade","feeRate":"0.00055","orderId":"9aac161b-8ed6-450d-9cab-c5cc67c21784","orderLinkId":
    "","side":"Sell","execTime":"1746270400353","isMaker":false,"seq":140612148849382}``.
    ``execFee`` is positive for a fee and negative for a rebate (docs/bybit-v5.md §8)."""

    category: str
    symbol: str
    execId: str
    execType: str
    execPrice: str
    execQty: str
    execFee: str
    feeRate: str
    orderId: str
    orderLinkId: str
    side: Literal["Buy", "Sell"]
    execTime: str
    isMaker: bool
    seq: int


class PositionItem(TypedDict, total=False):
    """One position, from ``/v5/position/list`` (``avgPrice``) or the ``position`` topic
    (``entryPrice``). ``size`` is unsigned; a flat one-way position has ``side: ""``. Sample:
    ``{"positionIdx":0,"symbol":"BTCUSDT","side":"Sell","size":"0.003","avgPrice":"27464.5",
    "leverage":"10","markPrice":"28224.50","positionIM":"8.24","positionMM":"0.41",
    "unrealisedPnl":"-2.28","category":"linear","seq":8327597863}``."""

    category: str
    symbol: str
    side: Literal["Buy", "Sell", ""]
    size: str
    avgPrice: str
    entryPrice: str
    positionIdx: int
    leverage: str
    markPrice: str
    positionIM: str
    positionMM: str
    unrealisedPnl: str
    seq: int


class WalletCoin(TypedDict, total=False):
    """One coin of a ``/v5/account/wallet-balance`` account. Sample: ``{"coin":"USDT",
    "equity":"1000","walletBalance":"1000","availableToWithdraw":"990","totalOrderIM":"10",
    "totalPositionIM":"0","unrealisedPnl":"0","locked":"0"}``."""

    coin: str
    equity: str
    walletBalance: str
    availableToWithdraw: str
    totalOrderIM: str
    totalPositionIM: str
    unrealisedPnl: str
    locked: str


class OrderbookData(TypedDict):
    """Sample: ``{"s":"BTCUSDT","b":[["16493.50","0.006"]],"a":[["16611.00","0.029"]],
    "u":18521288,"seq":7961638724}``."""

    s: str
    b: list[list[str]]  # [[price, size], ...], bids descending
    a: list[list[str]]  # asks ascending; size "0" deletes the level
    u: int
    seq: NotRequired[int]


class OrderbookMessage(TypedDict):
    """An ``orderbook.{depth}.{symbol}`` push. Sample: ``{"topic":"orderbook.50.BTCUSDT",
    "type":"delta","ts":1687940967466,"data":{"s":"BTCUSDT","b":[["30247.20","30.028"],
    ["30240.00","0"]],"a":[["30248.70","0"]],"u":177400507,"seq":66544703342},
    "cts":1687940967464}``."""

    topic: str
    type: Literal["snapshot", "delta"]
    ts: int
    data: OrderbookData
    cts: NotRequired[int]


class PrivateMessage(TypedDict):
    """A private-topic push (``order``, ``execution``, ``position``, ``wallet``). Sample:
    ``{"id":"5923240c6880ab-c59f-420b-9adb-3639adc9dd90","topic":"order","creationTime":
    1672364262474,"data":[{"symbol":"BTCUSDT","orderLinkId":"mm-b-1","orderStatus":"New"}]}``."""

    id: str
    topic: str
    creationTime: int
    data: list[Any]
