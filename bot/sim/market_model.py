"""The parameters of the simulated market and its mid-price process.

Defaults and where their figures come from: docs/simulator.md, "The market model".

The mid moves in jumps at Poisson times (``mid_moves_per_s``), each jump drawn from a normal
whose variance follows GARCH(1,1) over jumps: ``h' = ω + α·ε² + β·h`` with ``ω`` set so the
unconditional variance gives the instrument's daily volatility. Large moves cluster, quiet
spells cluster, and the daily figure is right on average: volatility clustering rather than a
pure random walk. Between jumps the touch stands still, so a quote that joins it waits in the
queue for taker flow (or the next jump) like on a liquid perpetual.

Taker orders arrive as a Poisson stream (``taker_rate_per_s``) with log-normal sizes (median
well under the mean: many small prints, a heavy tail), split evenly between buys and sells.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketModel:
    """Defaults and their sources: docs/simulator.md, "The market model"."""

    mid_moves_per_s: float = 0.5  # jumps of the mid per second
    garch_alpha: float = 0.05  # weight of the last squared jump
    garch_beta: float = 0.90  # persistence of the variance
    taker_rate_per_s: float = 4.0  # taker market orders per symbol per second
    taker_size_levels: float = 0.4  # mean taker size, in mean level sizes
    taker_size_sigma: float = 1.2  # log-normal shape of taker sizes
    touch_depth_levels: float = 3.0  # mean size at the touch, in mean level sizes


class GarchJumps:
    """The mid-price process of one symbol, in ticks."""

    __slots__ = ("alpha", "beta", "omega", "rate", "rng", "variance")

    def __init__(self, model: MarketModel, rng: random.Random, daily_vol_ticks: float) -> None:
        self.rng = rng
        self.rate = model.mid_moves_per_s
        self.alpha, self.beta = model.garch_alpha, model.garch_beta
        persistence = min(0.999, self.alpha + self.beta)
        jumps_per_day = max(1e-9, self.rate * SECONDS_PER_DAY)
        mean_variance = daily_vol_ticks**2 / jumps_per_day
        self.omega = (1.0 - persistence) * mean_variance
        self.variance = mean_variance

    def _poisson(self, expected: float) -> int:
        count, threshold, product = 0, math.exp(-expected), self.rng.random()
        while product > threshold and count < 1000:
            count += 1
            product *= self.rng.random()
        return count

    def step(self, mid_ticks: float, dt_s: float) -> float:
        """The mid after ``dt_s`` seconds."""
        if self.rate <= 0:
            return mid_ticks
        for _ in range(self._poisson(self.rate * dt_s)):
            jump = self.rng.gauss(0.0, math.sqrt(self.variance))
            self.variance = self.omega + self.alpha * jump * jump + self.beta * self.variance
            mid_ticks = max(10.0, mid_ticks + jump)
        return mid_ticks


def taker_size_lots(rng: random.Random, mean_lots: float, sigma: float) -> int:
    """One log-normal taker size with the given mean (in lots)."""
    mu = math.log(max(mean_lots, 1e-9)) - sigma * sigma / 2
    return max(1, round(rng.lognormvariate(mu, sigma)))
