"""Pre-trade risk and breakers. Refusals are data (:class:`Refusal`), not exceptions.

* per action: max open orders, max position (a create or amend that could breach it), and a
  submit-rate token bucket (``max_submits_per_s``, burst of one second's budget);
* breakers: too many order errors in ``error_window_s`` pauses quoting for one window; a stale
  book or a disconnected private stream pauses quoting until fresh (checked by the quoter);
* kill switch: marked-to-mid PnL (fees and rebates included) below ``-max_drawdown_quote``
  halts the bot for good: cancel all, stop quoting, exit non-zero with the reason.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.clock import Clock
from bot.config import RiskConfig
from bot.ratelimit import TokenBucket


class RefusalReason(StrEnum):
    OPEN_ORDERS = "max_open_orders"
    POSITION = "max_position"
    RATE = "submit_rate"
    ERRORS = "error_breaker"
    KILLED = "kill_switch"


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: RefusalReason
    detail: str


class RiskManager:
    def __init__(self, cfg: RiskConfig, clock: Clock) -> None:
        self.cfg = cfg
        self.clock = clock
        self._budget = TokenBucket(cfg.max_submits_per_s, clock)
        self._errors: deque[float] = deque()
        self.paused_until_s = 0.0
        self.kill_reason: str | None = None

    # ---- budget -----------------------------------------------------------------------------
    def check_submit(self, *, opens_order: bool, open_orders: int) -> Refusal | None:
        """May one more create/amend/cancel go out now? Consumes a token when it may."""
        if self.kill_reason is not None:
            return Refusal(RefusalReason.KILLED, self.kill_reason)
        if opens_order and open_orders >= self.cfg.max_open_orders:
            return Refusal(RefusalReason.OPEN_ORDERS, f"{open_orders} open")
        if not self._budget.try_take():
            return Refusal(RefusalReason.RATE, f"{self.cfg.max_submits_per_s}/s")
        return None

    def check_position(self, position: Decimal, side_sign: int, qty: Decimal) -> Refusal | None:
        """Would filling ``qty`` on this side take the position past the limit?"""
        after = position + side_sign * qty
        if abs(after) > self.cfg.max_position and abs(after) > abs(position):
            return Refusal(RefusalReason.POSITION, f"{position} -> {after}")
        return None

    # ---- breakers ---------------------------------------------------------------------------
    def record_error(self) -> bool:
        """Count an order error; True when this one trips the error breaker."""
        now = self.clock.monotonic()
        self._errors.append(now)
        while self._errors and self._errors[0] < now - self.cfg.error_window_s:
            self._errors.popleft()
        if len(self._errors) >= self.cfg.max_errors and now >= self.paused_until_s:
            self.paused_until_s = now + self.cfg.error_window_s
            self._errors.clear()
            return True
        return False

    def paused(self) -> bool:
        return self.clock.monotonic() < self.paused_until_s

    def check_drawdown(self, pnl_quote: Decimal) -> str | None:
        """The kill reason once PnL is below the drawdown limit (sticky)."""
        if self.kill_reason is None and pnl_quote < -self.cfg.max_drawdown_quote:
            self.kill_reason = (
                f"drawdown kill switch: PnL {pnl_quote:.2f} < -{self.cfg.max_drawdown_quote}"
            )
        return self.kill_reason
