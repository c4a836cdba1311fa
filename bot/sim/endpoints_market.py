"""Public market-data endpoints beyond the basics: klines, recent trades, system status, risk
limits, funding history; and the ``kline.{interval}.{symbol}`` WebSocket topic.

Shapes follow Bybit's published samples (docs/bybit-v5.md §4, §7). Candles and the tape come
from :mod:`bot.sim.klines`, fed by the engine's own public prints, so every view agrees.
Categories Bybit has but the simulator lists nothing in (``inverse``, ``option``) answer with
empty lists, never "Illegal category" (see :data:`UNLISTED`).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.sim import validate, wire
from bot.sim.engine import Exchange
from bot.sim.instruments import Category, Instrument
from bot.sim.klines import (
    INTERVALS,
    Candle,
    SymbolTape,
    render_price_only,
    stream_item,
)
from bot.sim.rest import Endpoint, RestApi
from bot.sim.wire import ApiError, dumps, params_error

if TYPE_CHECKING:
    from bot.sim.wsconn import WsConnection

UNLISTED = frozenset({"inverse", "option"})
FUNDING_RATE = "0.0001"
FUNDING_INTERVAL_MS = 8 * 3600 * 1000
# Bybit's BTCUSDT tiers (2026): risk limit value steps with rising maintenance margin.
RISK_TIERS = (
    (2_000_000, "0.005", "0.01", "100.00", "0"),
    (2_600_000, "0.0056", "0.0111", "90.00", "1200"),
    (3_200_000, "0.0062", "0.0125", "80.00", "2760"),
    (3_800_000, "0.0068", "0.0142", "70.00", "4680"),
    (4_400_000, "0.0074", "0.0166", "60.00", "6960"),
)


def category_of(params: dict[str, Any]) -> str:
    raw = validate.text(params, "category", required=True)
    if raw not in UNLISTED and raw not in (c.value for c in Category):
        raise ApiError(wire.PARAMS_ERROR, "Illegal category")
    return raw


def listed_or_empty(fn: Endpoint, empty: Callable[[str], Any]) -> Endpoint:
    """``fn`` for the simulator's categories; ``empty(category)`` for Bybit's other ones."""

    def wrapped(params: dict[str, Any]) -> Any:
        raw = params.get("category")
        if isinstance(raw, str) and raw in UNLISTED:
            return empty(raw)
        return fn(params)

    return wrapped


class MarketData:
    """Tapes of every instrument, fed by the engine's public prints."""

    def __init__(self, exchange: Exchange, history_minutes: int, seed: int) -> None:
        self.exchange = exchange
        self.tapes: dict[tuple[Category, str], SymbolTape] = {}
        now = exchange.clock.now_ms()
        for key, inst in exchange.instruments.items():
            tape = SymbolTape(inst)
            rng = random.Random(seed * 7919 + zlib.crc32(repr(key).encode()))  # noqa: S311
            tape.warm_up(now, history_minutes, rng)
            self.tapes[key] = tape
        previous = exchange.on_trades

        def on_trades(inst: Instrument, trades: list[dict[str, Any]]) -> None:
            tape = self.tapes[inst.key]
            for trade in trades:
                tape.record(trade)
            previous(inst, trades)

        exchange.on_trades = on_trades

    def tape(self, params: dict[str, Any]) -> tuple[Category, Instrument, SymbolTape]:
        category, inst = validate.instrument(self.exchange, params)
        assert inst is not None
        return category, inst, self.tapes[inst.key]


class KlineFeed:
    """The ``kline.{interval}.{symbol}`` topic on the public channels: the current candle every
    ``interval_s``, and the closed one (``confirm: true``) once when its interval ends."""

    def __init__(self, data: MarketData) -> None:
        self.data = data
        self.subs: dict[tuple[str, str], set[WsConnection]] = {}
        self._last_start: dict[tuple[str, str], int] = {}

    def owns(self, channel: str, topic: str) -> bool:
        parts = topic.split(".")
        if channel not in ("linear", "spot") or len(parts) != 3 or parts[0] != "kline":
            return False
        return parts[1] in INTERVALS and (Category(channel), parts[2]) in self.data.tapes

    def subscribe(self, channel: str, topic: str, conn: WsConnection) -> None:
        self.subs.setdefault((channel, topic), set()).add(conn)

    def unsubscribe(self, channel: str, topic: str, conn: WsConnection) -> None:
        subs = self.subs.get((channel, topic))
        if subs is not None:
            subs.discard(conn)
            if not subs:
                del self.subs[(channel, topic)]

    def publish(self) -> None:
        now = self.data.exchange.clock.now_ms()
        for (channel, topic), conns in list(self.subs.items()):
            _, interval, symbol = topic.split(".")
            tape = self.data.tapes[(Category(channel), symbol)]
            rows = tape.candles(interval, 0, now, 2, now)
            items = []
            last = self._last_start.get((channel, topic))
            if last is not None and rows[0].start_ms != last and len(rows) > 1:
                items.append(stream_item(tape.inst, rows[1], interval, now))  # just closed
            self._last_start[(channel, topic)] = rows[0].start_ms
            items.append(stream_item(tape.inst, rows[0], interval, now))
            frame = dumps({"topic": topic, "data": items, "ts": now, "type": "snapshot"})
            for conn in list(conns):
                conn.send(frame)


def register(api: RestApi, data: MarketData) -> None:  # noqa: C901 (a flat route table)
    exchange = data.exchange
    clock = exchange.clock

    def _window(params: dict[str, Any], now: int) -> tuple[str, int, int, int]:
        interval = validate.text(params, "interval", required=True)
        if interval not in INTERVALS:
            raise params_error("interval invalid")
        limit = validate.int_param(params, "limit", 200, 1, 1000)
        start = validate.int_param(params, "start", 0, 0, 10**15)
        end = validate.int_param(params, "end", now, 0, 10**15)
        return interval, start, end, limit

    def _candles(params: dict[str, Any]) -> tuple[Category, Instrument, list[Candle]]:
        category, inst, tape = data.tape(params)
        now = clock.now_ms()
        interval, start, end, limit = _window(params, now)
        return category, inst, tape.candles(interval, start, end, limit, now)

    def kline(params: dict[str, Any]) -> Any:
        category, inst, tape = data.tape(params)
        now = clock.now_ms()
        interval, start, end, limit = _window(params, now)
        rows = tape.rows(interval, start, end, limit, now)
        return {"category": category.value, "symbol": inst.symbol, "list": rows}

    def price_kline(params: dict[str, Any]) -> Any:
        if params.get("category") == "spot":
            raise ApiError(wire.PARAMS_ERROR, "Illegal category")
        params = {**params, "category": params.get("category") or "linear"}
        category, inst, rows = _candles(params)
        return {
            "category": category.value,
            "symbol": inst.symbol,
            "list": [render_price_only(inst, c) for c in rows],
        }

    def recent_trade(params: dict[str, Any]) -> Any:
        category, inst, tape = data.tape(params)
        default, high = (60, 60) if category is Category.SPOT else (500, 1000)
        limit = validate.int_param(params, "limit", default, 1, high)
        items: list[dict[str, Any]] = []
        for trade in tape.recent():
            if len(items) == limit:
                break
            items.append(
                {
                    "execId": trade["i"],
                    "symbol": inst.symbol,
                    "price": trade["p"],
                    "size": trade["v"],
                    "side": trade["S"],
                    "time": str(trade["T"]),
                    "isBlockTrade": False,
                    "isRPITrade": False,
                    "mP": "",
                    "iP": "",
                    "mIv": "",
                    "iv": "",
                    "seq": str(trade["seq"]),
                }
            )
        return {"category": category.value, "list": items}

    def system_status(params: dict[str, Any]) -> Any:
        return {"list": []}  # no maintenance scheduled

    def risk_limit(params: dict[str, Any]) -> Any:
        category = category_of(params)
        if category == "spot":
            raise ApiError(wire.PARAMS_ERROR, "Illegal category")
        symbol = validate.text(params, "symbol")
        insts = [
            i
            for i in exchange.instruments.values()
            if i.category.value == category and (not symbol or i.symbol == symbol)
        ]
        if symbol and not insts and category not in UNLISTED:
            raise params_error("symbol invalid")
        rows = [
            {
                "id": tier + 1,
                "symbol": inst.symbol,
                "riskLimitValue": str(value),
                "maintenanceMargin": mm,
                "initialMargin": im,
                "isLowestRisk": 1 if tier == 0 else 0,
                "maxLeverage": lev,
                "mmDeduction": deduction,
            }
            for inst in insts
            for tier, (value, mm, im, lev, deduction) in enumerate(RISK_TIERS)
        ]
        return {"category": category, "list": rows, "nextPageCursor": ""}

    def funding_history(params: dict[str, Any]) -> Any:
        category = category_of(params)
        if category == "spot":
            raise ApiError(wire.PARAMS_ERROR, "Illegal category")
        symbol = validate.text(params, "symbol", required=True)
        if category in UNLISTED:
            return {"category": category, "list": []}
        if (Category(category), symbol) not in exchange.instruments:
            raise params_error("symbol invalid")
        now = clock.now_ms()
        limit = validate.int_param(params, "limit", 200, 1, 200)
        end = validate.int_param(params, "endTime", now, 0, 10**15)
        start = validate.int_param(params, "startTime", 0, 0, 10**15)
        stamp = end // FUNDING_INTERVAL_MS * FUNDING_INTERVAL_MS
        rows: list[dict[str, str]] = []
        while len(rows) < limit and stamp >= start:
            rows.append(
                {
                    "symbol": symbol,
                    "fundingRate": FUNDING_RATE,
                    "fundingRateTimestamp": str(stamp),
                }
            )
            stamp -= FUNDING_INTERVAL_MS
        return {"category": category, "list": rows}

    routes: list[tuple[str, Endpoint]] = [
        ("/v5/market/kline", kline),
        ("/v5/market/mark-price-kline", price_kline),
        ("/v5/market/index-price-kline", price_kline),
        ("/v5/market/premium-index-price-kline", price_kline),
        ("/v5/market/recent-trade", listed_or_empty(recent_trade, _empty_list)),
        ("/v5/market/risk-limit", risk_limit),
        ("/v5/market/funding/history", funding_history),
        ("/v5/system/status", system_status),
    ]
    for path, fn in routes:
        api.add("GET", path, fn, private=False)
    # Bybit's other categories: empty lists where the simulator lists nothing.
    plain_info, _ = api.routes[("GET", "/v5/market/instruments-info")]

    def instruments_info(params: dict[str, Any]) -> Any:
        """An unlisted symbol is an empty list on Bybit, not an error (a bot reads "not
        listed" from it and can stop at once instead of retrying)."""
        try:
            return plain_info(params)
        except ApiError as err:
            if err.message != "params error: symbol invalid":
                raise
            return _empty_paged(str(params.get("category")))

    api.add(
        "GET",
        "/v5/market/instruments-info",
        listed_or_empty(instruments_info, _empty_paged),
        private=False,
    )
    plain_tickers, _ = api.routes[("GET", "/v5/market/tickers")]

    def tickers(params: dict[str, Any]) -> Any:
        result = plain_tickers(params)
        if result["category"] == "spot":  # REST spot rows carry the touch (the stream's don't)
            for row in result["list"]:
                book = exchange.markets[(Category.SPOT, row["symbol"])].book
                inst = exchange.instruments[(Category.SPOT, row["symbol"])]
                for name, side in (("bid1", book.bids), ("ask1", book.asks)):
                    best = side.best()
                    row[f"{name}Price"] = inst.price_str(best) if best is not None else ""
                    row[f"{name}Size"] = inst.qty_str(side.levels[best].total) if best else ""
        return result

    api.add("GET", "/v5/market/tickers", listed_or_empty(tickers, _empty_list), private=False)


def _empty_list(category: str) -> dict[str, Any]:
    return {"category": category, "list": []}


def _empty_paged(category: str) -> dict[str, Any]:
    return {"category": category, "list": [], "nextPageCursor": ""}
