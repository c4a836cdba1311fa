"""One token bucket for the bot: REST pacing (wait for a token) and the risk manager's submit
budget (refuse without one). ``rate_per_s`` tokens a second, a burst of one second's worth."""

from __future__ import annotations

from bot.clock import Clock


class TokenBucket:
    def __init__(self, rate_per_s: float, clock: Clock) -> None:
        self.rate = rate_per_s
        self.clock = clock
        self.tokens = rate_per_s
        self.updated_s = clock.monotonic()

    def _refill(self) -> None:
        now = self.clock.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.updated_s) * self.rate)
        self.updated_s = now

    def take(self) -> float:
        """Take a token now (going into debt if none is left); how long to wait before using it."""
        self._refill()
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def try_take(self) -> bool:
        """Take a whole token if one is there; False (nothing taken) if not."""
        self._refill()
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True
