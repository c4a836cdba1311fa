"""The simulator's configuration: frozen, typed, keyword-only and closed (unknown keys fail).

Every field documents its unit and default. Tests shrink the time constants (tick interval,
push cadence, latency, idle timeouts) to run fast; the defaults model the real exchange.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from bot.sim.instruments import Instrument, default_instruments
from bot.sim.market_model import MarketModel


class SimConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)  # 0 = pick a free port
    seed: int = 0  # seeds the price process, taker flow, ids and fault dice
    maker_fee: Decimal = Decimal("-0.00005")  # maker fee rate; negative = rebate (MM tier 2)
    taker_fee: Decimal = Decimal("0.00055")  # taker fee rate
    start_balance_usdt: Decimal = Decimal(100_000)
    tick_interval_ms: float = Field(default=100.0, gt=0)  # market process step
    # The market model (bot.sim.market_model): defaults and their sources are in
    # docs/simulator.md, "The market model".
    taker_rate_per_s: float = Field(default=4.0, ge=0)  # taker market orders per symbol per s
    taker_size_levels: float = Field(default=0.4, gt=0)  # mean taker size, in mean level sizes
    taker_size_sigma: float = Field(default=1.2, ge=0)  # log-normal shape of taker sizes
    mid_moves_per_s: float = Field(default=0.5, ge=0)  # jumps of the mid per second
    garch_alpha: float = Field(default=0.05, ge=0, lt=1)  # GARCH(1,1) weight of the last jump²
    garch_beta: float = Field(default=0.90, ge=0, lt=1)  # GARCH(1,1) persistence
    touch_depth_levels: float = Field(default=3.0, gt=0)  # mean touch size, in level sizes
    book_levels: int = Field(default=200, ge=5, le=1000)  # synthetic levels per side
    cadence_scale: float = Field(default=1.0, gt=0)  # multiplies orderbook push intervals
    level1_repush_s: float = Field(default=3.0, gt=0)  # level-1 snapshot re-push when unchanged
    ws_latency_ms: float = Field(default=3.0, ge=0)  # delay before every WS ack and push
    public_idle_timeout_s: float = Field(default=60.0, gt=0)  # no client frame → close
    private_idle_timeout_s: float = Field(default=600.0, gt=0)
    ws_max_queue: int = Field(default=20_000, ge=10)  # slow consumer cut-off (frames queued)
    rate_limits: bool = True  # enforce Bybit's per-endpoint limits (10006)
    auth_error_http_status: int = Field(default=200, ge=200, le=499)  # 401 like some captures
    ghost_hold_s: float = Field(default=10.0, ge=0)  # a ghost reply is held this long, then cut
    cancel_race_window_ms: float = Field(default=50.0, ge=0)  # cancel-after-fill → double Filled
    # Closed orders kept for lookups (Bybit's realtime list shows up to 500 recent closed ones);
    # small so memory saturates within minutes of a long run.
    closed_order_history: int = Field(default=500, ge=10)
    # Funding of perpetuals: Bybit's 8 h schedule and a typical BTCUSDT rate (0.01 %).
    funding_interval_s: float = Field(default=28_800.0, gt=0)
    funding_rate: Decimal = Decimal("0.0001")
    # Seeded 1m candle history before the start (klines have something to show at once).
    kline_history_minutes: int = Field(default=1440, ge=0, le=10_080)
    instruments: tuple[Instrument, ...] = Field(default_factory=default_instruments)

    def market_model(self) -> MarketModel:
        return MarketModel(
            mid_moves_per_s=self.mid_moves_per_s,
            garch_alpha=self.garch_alpha,
            garch_beta=self.garch_beta,
            taker_rate_per_s=self.taker_rate_per_s,
            taker_size_levels=self.taker_size_levels,
            taker_size_sigma=self.taker_size_sigma,
            touch_depth_levels=self.touch_depth_levels,
        )
