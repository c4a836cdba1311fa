"""The local order book for one symbol, from a venue's snapshots and deltas (:class:`BookUpdate`).

Rules (docs/bybit-v5.md §7): a snapshot replaces the book (the venue marks Bybit's ``u == 1``
restart message as one); a delta level with size zero deletes, an unknown price inserts, a
known price replaces. On top of what pybit, Hummingbot and cryptofeed do, this book checks
update-id continuity (each delta must carry ``previous + 1``; a repeat of the last id is a
duplicate and skipped), rejects
deltas before a snapshot and crossed books, and
deleting an absent level is a no-op, not a crash. Any anomaly raises :class:`BookAnomaly` and
leaves the book invalid until the next snapshot: the caller resubscribes and stops quoting.

Prices are integer ticks (``dict[int, str]`` level maps, sizes kept as wire strings); the best
price per side is tracked incrementally so a delta costs O(levels in it), and sorted views are
built only on demand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.domain import BookUpdate


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
    def apply(self, update: BookUpdate, now_s: float) -> None:
        """Apply one snapshot or delta; raise BookAnomaly on a bad stream."""
        u = update.update_id
        if update.snapshot:
            self._snapshot(update)
        else:
            if not self.valid:
                raise BookAnomaly("no_snapshot", "delta before snapshot")
            if u == self.u:  # the same push twice (a resend): already applied
                return
            if u != self.u + 1:
                self.valid = False
                kind = "regression" if u <= self.u else "gap"
                raise BookAnomaly(kind, f"{self.symbol} book u {self.u} -> {u}")
            self._levels(update.bids, self.bids, True)
            self._levels(update.asks, self.asks, False)
            self.u = u
        self.seq = update.seq
        self.ts_ms = update.ts_ms
        self.cts_ms = update.cts_ms
        self.updated_s = now_s
        bid, ask = self.best_bid, self.best_ask
        if bid is not None and ask is not None and bid >= ask:
            self.valid = False
            raise BookAnomaly("crossed", f"{self.symbol} book crossed: bid {bid} >= ask {ask}")

    def _snapshot(self, update: BookUpdate) -> None:
        to_ticks = self.to_ticks
        self.bids = {to_ticks(p): s for p, s in update.bids if not _is_zero(s)}
        self.asks = {to_ticks(p): s for p, s in update.asks if not _is_zero(s)}
        self.best_bid = max(self.bids) if self.bids else None
        self.best_ask = min(self.asks) if self.asks else None
        self.u = update.update_id
        self.valid = True

    def _levels(self, levels: Sequence[Sequence[str]], side: dict[int, str], is_bid: bool) -> None:
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
