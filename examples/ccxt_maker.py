"""A minimal market maker on ccxt.pro: one post-only quote per side at the touch of BTC/USDT:USDT.

Stock ccxt.pro pointed at `mmbot sim` by its URLs only (docs/simulator.md, "Bring your own
bot"): one post-only buy at the best bid and one sell at the best ask, re-priced when the touch
moved more than TOLERANCE ticks (at most every MIN_REPRICE_S), no quote past the position
limit, everything cancelled on SIGTERM / SIGINT / Ctrl-Break.

Environment: EXCHANGE_REST_URL (default http://127.0.0.1:8900; WebSockets on the same port),
BYBIT_API_KEY_FILE / BYBIT_API_SECRET_FILE (or BYBIT_API_KEY / BYBIT_API_SECRET), SYMBOL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import deque
from pathlib import Path

import ccxt.pro

SYMBOL = os.environ.get("SYMBOL", "BTC/USDT:USDT")
QTY, MAX_POSITION = 0.001, 0.005
TOLERANCE, MIN_REPRICE_S = 2, 0.5  # ticks; seconds


def secret(name: str) -> str:
    path = os.environ.get(f"BYBIT_API_{name}_FILE")
    value = Path(path).read_text().strip() if path else os.environ.get(f"BYBIT_API_{name}", "")
    if not value:
        sys.exit(f"ccxt_maker: set BYBIT_API_{name}_FILE or BYBIT_API_{name}")
    return value


def exchange_for(rest: str) -> ccxt.pro.bybit:
    ws = "ws" + rest.removeprefix("http")
    # Bounded caches (ccxt keeps 1,000 orders by default): memory plateaus within minutes.
    options = {"ordersLimit": 20, "tradesLimit": 20}
    exchange = ccxt.pro.bybit(
        {"apiKey": secret("KEY"), "secret": secret("SECRET"), "options": options}
    )
    exchange.urls["api"] = {  # the only change to a stock client: where it connects
        **dict.fromkeys(("spot", "futures", "v2", "public", "private"), rest),
        "ws": {
            "public": {c: f"{ws}/v5/public/{c}" for c in ("spot", "linear", "inverse", "option")},
            "private": {
                "spot": {"unified": f"{ws}/v5/private", "nonUnified": f"{ws}/v5/private"},
                "contract": f"{ws}/v5/private",
                "usdc": f"{ws}/v5/private",
                "trade": f"{ws}/v5/trade",
            },
        },
    }
    return exchange


class Maker:
    def __init__(self, exchange: ccxt.pro.bybit) -> None:
        self.ex = exchange
        self.quotes: dict[str, dict[str, float | str]] = {}  # side -> {"id", "price", "at"}
        self.position = 0.0
        self.placed = {"buy": 0, "sell": 0}
        self.closed: deque[str] = deque(maxlen=100)  # ids seen done (a push may beat the ack)

    async def follow_orders(self) -> None:
        """Forget quotes that filled or were cancelled; track the position from fills."""
        while True:
            for order in await self.ex.watch_orders(SYMBOL):
                if order["status"] == "open":
                    continue
                self.closed.append(order["id"])
                quote = self.quotes.get(order["side"])
                if quote and quote["id"] == order["id"]:
                    del self.quotes[order["side"]]
            positions = await self.ex.fetch_positions([SYMBOL])
            self.position = sum(
                (p["contracts"] or 0) * (1 if p["side"] == "long" else -1) for p in positions
            )

    async def quote(self, side: str, price: float, tick: float) -> None:
        quote = self.quotes.get(side)
        room = MAX_POSITION - self.position if side == "buy" else MAX_POSITION + self.position
        try:
            if room < QTY:  # at the limit: this side rightly stays out
                if quote:
                    self.quotes.pop(side, None)
                    await self.ex.cancel_order(str(quote["id"]), SYMBOL)
            elif quote is None:
                self.quotes[side] = {"id": "", "price": price, "at": time.monotonic()}
                order = await self.ex.create_order(
                    SYMBOL, "limit", side, QTY, price, {"postOnly": True}
                )
                self.placed[side] += 1
                if order["id"] in self.closed:  # already gone (post-only would have taken)
                    self.quotes.pop(side, None)
                else:
                    self.quotes[side]["id"] = order["id"]
            elif (
                quote["id"]
                and abs(float(quote["price"]) - price) > TOLERANCE * tick
                and time.monotonic() - float(quote["at"]) >= MIN_REPRICE_S
            ):
                quote.update(price=price, at=time.monotonic())
                await self.ex.edit_order(str(quote["id"]), SYMBOL, "limit", side, QTY, price)
        except (ccxt.OrderNotFound, ccxt.InvalidOrder):
            self.quotes.pop(side, None)  # filled or gone meanwhile: place afresh next time

    async def run(self) -> None:
        await self.ex.load_markets()
        tick = float(self.ex.market(SYMBOL)["precision"]["price"])
        follower = asyncio.ensure_future(self.follow_orders())
        last_report = time.monotonic()
        try:
            while True:
                book = await self.ex.watch_order_book(SYMBOL)
                if book["bids"] and book["asks"]:
                    await self.quote("buy", book["bids"][0][0], tick)
                    await self.quote("sell", book["asks"][0][0], tick)
                if time.monotonic() - last_report > 10:
                    last_report = time.monotonic()
                    print(
                        f"placed buy={self.placed['buy']} sell={self.placed['sell']} "
                        f"position={self.position:.3f}",
                        flush=True,
                    )
        finally:
            follower.cancel()


async def main() -> None:
    exchange = exchange_for(os.environ.get("EXCHANGE_REST_URL", "http://127.0.0.1:8900"))
    maker = Maker(exchange)
    task = asyncio.ensure_future(maker.run())
    loop = asyncio.get_running_loop()
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(getattr(signal, name), task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(exchange.cancel_all_orders(SYMBOL), 10)
        print(f"stopped: placed buy={maker.placed['buy']} sell={maker.placed['sell']}", flush=True)
        await exchange.close()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
