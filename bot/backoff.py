"""Reconnect backoff: ``delay = min(base * 2**attempt + jitter, max_delay)``, jitter 0–30 %.

The seed's formula, with the fixes the issue asks for (cryptofeed's has no cap and no jitter):
the cap applies after jitter, the attempt count resets on a successful connection, and a
maximum number of consecutive attempts ends the retrying (the caller reports it as
``ws_max_reconnect_reached_total`` and stops). The random source is injected for tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


class MaxAttemptsReached(Exception):
    """Consecutive failures reached the configured cap."""


@dataclass
class Backoff:
    base_s: float = 1.0
    max_s: float = 60.0
    jitter: float = 0.3
    max_attempts: int = 0  # 0 = unlimited
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The (lowest, highest) delay the formula allows for ``attempt`` (0-based)."""
        raw = self.base_s * 2.0 ** min(attempt, 62)
        return min(raw, self.max_s), min(raw * (1.0 + self.jitter), self.max_s)

    def next_delay(self) -> float:
        """The delay before the next attempt; raises MaxAttemptsReached past the cap."""
        if self.max_attempts and self.attempt >= self.max_attempts:
            raise MaxAttemptsReached(f"{self.attempt} consecutive attempts failed")
        raw = self.base_s * 2.0 ** min(self.attempt, 62)
        jitter_s = raw * self.jitter * self.rng.random()
        self.attempt += 1
        return min(raw + jitter_s, self.max_s)

    def reset(self) -> None:
        """A connection succeeded: start again from ``base_s``."""
        self.attempt = 0
