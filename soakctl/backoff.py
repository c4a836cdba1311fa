"""Restart backoff: ``delay = min(base * 2**attempt + jitter, max)``, jitter 0..30 % by default.

Exponential with a cap, randomised so a fleet of restarting processes does not synchronise
(AWS Architecture Blog, "Exponential Backoff and Jitter"), and reset once a process has stayed
up for a healthy stretch, so one crash a day does not creep toward the cap.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class ExponentialBackoff:
    base_s: float = 1.0
    max_s: float = 60.0
    jitter: float = 0.3
    reset_after_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        """The delay before the next restart; advances the attempt counter."""
        raw = self.base_s * (2.0 ** min(self.attempt, 62))
        delay = min(raw + raw * self.rng.uniform(0.0, self.jitter), self.max_s)
        self.attempt += 1
        return delay

    def observe_runtime(self, runtime_s: float) -> None:
        """A process that ran at least ``reset_after_s`` was healthy: start over."""
        if runtime_s >= self.reset_after_s:
            self.attempt = 0
