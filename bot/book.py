"""The local order book for one symbol: Bybit ``orderbook.{depth}`` snapshot + deltas.

Rules (bybit-v5.md §7): a ``snapshot`` (and any ``u == 1`` message) replaces the book; a delta
level with size ``"0"`` deletes, an unknown price inserts, a known price replaces. On top of
what pybit, Hummingbot and cryptofeed do, this book checks ``u`` continuity (each delta must
carry ``u == previous u + 1``; a repeat of the last ``u`` is a duplicate and skipped), rejects
deltas before a snapshot and crossed books, and
deleting an absent level is a no-op, not a crash. Any anomaly raises :class:`BookAnomaly` and
leaves the book invalid until the next snapshot: the caller resubscribes and stops quoting.

Prices are integer ticks (``dict[int, str]`` level maps, sizes kept as wire strings); the best
price per side is tracked incrementally so a delta costs O(levels in it), and sorted views are
built only on demand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class BookAnomaly(Exception):
    """The stream cannot be applied (gap, regression, crossed, no snapshot); resync needed."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # metric label: gap | regression | crossed | no_snapshot


def _is_zero(size: str) -> bool:
    return not size.strip("0.")


class OrderBook:
    """Bids and asks keyed by price in ticks; see the module docstring for the rules."""

    __slots__ = (
        "asks",
        "best_ask",
        "best_bid",
        "bids",
        "cts_ms",
        "seq",
        "symbol",
        "to_ticks",
        "ts_ms",
        "u",
        "updated_s",
        "valid",
    )

    def __init__(self, symbol: str, to_ticks: Callable[[str], int]) -> None:
        self.symbol = symbol
        self.to_ticks = to_ticks
        self.bids: dict[int, str] = {}
        self.asks: dict[int, str] = {}
        self.best_bid: int | None = None
        self.best_ask: int | None = None
        self.u = 0
        self.seq = 0
        self.ts_ms = 0
        self.cts_ms = 0
        self.updated_s = 0.0
        self.valid = False

    # ---- applying messages ----------------------------------------------------------------
    def apply(self, message: dict[str, Any], now_s: float) -> None:
        """Apply one ``orderbook.*`` push (parsed JSON); raise BookAnomaly on a bad stream.

        Sample: ``{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1687940967466,
        "data":{"s":"BTCUSDT","b":[["30247.20","30.028"]],"a":[["30248.70","0"]],
        "u":177400507,"seq":66544703342},"cts":1687940967464}``
        """
        data = message["data"]
        u = data["u"]
        if message.get("type") == "snapshot" or u == 1:
            self._snapshot(data)
        else:
            if not self.valid:
                raise BookAnomaly("no_snapshot", "delta before snapshot")
            if u == self.u:  # the same push twice (a resend): already applied
                return
            if u != self.u + 1:
                self.valid = False
                kind = "regression" if u <= self.u else "gap"
                raise BookAnomaly(kind, f"{self.symbol} book u {self.u} -> {u}")
            self._levels(data["b"], self.bids, True)
            self._levels(data["a"], self.asks, False)
            self.u = u
        self.seq = data.get("seq", 0)
        self.ts_ms = message.get("ts", 0)
        self.cts_ms = message.get("cts", 0)
        self.updated_s = now_s
        bid, ask = self.best_bid, self.best_ask
        if bid is not None and ask is not None and bid >= ask:
            self.valid = False
            raise BookAnomaly("crossed", f"{self.symbol} book crossed: bid {bid} >= ask {ask}")

    def _snapshot(self, data: dict[str, Any]) -> None:
        to_ticks = self.to_ticks
        self.bids = {to_ticks(p): s for p, s in data["b"] if not _is_zero(s)}
        self.asks = {to_ticks(p): s for p, s in data["a"] if not _is_zero(s)}
        self.best_bid = max(self.bids) if self.bids else None
        self.best_ask = min(self.asks) if self.asks else None
        self.u = data["u"]
        self.valid = True

    def _levels(self, levels: list[list[str]], side: dict[int, str], is_bid: bool) -> None:
        to_ticks = self.to_ticks
        best = self.best_bid if is_bid else self.best_ask
        recompute = False
        for price, size in levels:
            ticks = to_ticks(price)
            if _is_zero(size):
                if side.pop(ticks, None) is not None and ticks == best:
                    recompute = True
            else:
                side[ticks] = size
                if best is None or (ticks > best if is_bid else ticks < best):
                    best = ticks
                    recompute = False
        if recompute:
            best = (max(side) if is_bid else min(side)) if side else None
        if is_bid:
            self.best_bid = best
        else:
            self.best_ask = best

    def invalidate(self) -> None:
        """Mark the book unusable until the next snapshot (reconnect, resubscribe)."""
        self.valid = False

    # ---- reading ------------------------------------------------------------------------
    def age_s(self, now_s: float) -> float:
        return now_s - self.updated_s if self.updated_s else float("inf")

    def levels(self, side: str, depth: int = 10) -> list[tuple[int, str]]:
        """Top ``depth`` levels of ``"b"`` (descending) or ``"a"`` (ascending)."""
        book = self.bids if side == "b" else self.asks
        prices = sorted(book, reverse=side == "b")[:depth]
        return [(p, book[p]) for p in prices]
