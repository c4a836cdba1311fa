"""The default market behaves like a liquid perpetual for a maker (docs/simulator.md, "The
market model"):

- a 0.001 BTC quote joining the touch fills after a median of 1-10 s of market time (the
  engine in fake time with the default parameters: the figure does not depend on the speed of
  the machine);
- the bundled bot, against the real simulator for a minute, rests on both sides at least 90 %
  of the time it is allowed to (its position below the limit), polled every 0.5 s, and its
  submit-rate refusals stay rare.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from ccxttools import launch_sim
from simtools import RemoteSim, signed

from bot.sim.clock import FakeClock
from bot.sim.config import SimConfig
from bot.sim.engine import Exchange
from bot.sim.instruments import Category
from bot.sim.validate import parse_create

pytestmark = pytest.mark.slow

TOUCH_FILL_MEDIAN_S = (1.0, 10.0)  # the documented range (docs/simulator.md, "The market model")
TWO_SIDED_MIN = 0.90


def test_touch_quote_fill_time_under_the_default_market() -> None:
    clock = FakeClock()
    exchange = Exchange(SimConfig(seed=5), clock)
    market = exchange.markets[(Category.LINEAR, "BTCUSDT")]
    inst = market.inst
    waits_s: list[float] = []
    for trial in range(40):
        buy = trial % 2 == 0
        best = market.book.bids.best() if buy else market.book.asks.best()
        assert best is not None
        params = {
            "category": "linear",
            "symbol": "BTCUSDT",
            "side": "Buy" if buy else "Sell",
            "orderType": "Limit",
            "qty": "0.001",
            "price": inst.price_str(best),
            "timeInForce": "PostOnly",
        }
        order = exchange.place(parse_create(exchange, params))
        assert order.is_open  # joined the touch, at the back of its queue
        start = clock.now_ms()
        for _ in range(3000):  # at most 300 s of market time per quote
            if not order.is_open:
                break
            clock.advance(100)
            exchange.step_market(market, 0.1)
        waits_s.append((clock.now_ms() - start) / 1000)
        if order.is_open:
            exchange.cancel(inst, order.order_id, "")
    median = statistics.median(waits_s)
    low, high = TOUCH_FILL_MEDIAN_S
    assert low <= median <= high, (median, sorted(waits_s))


def _open_sides(sim: RemoteSim, key: str, secret: str) -> tuple[set[str], Decimal]:
    reply = signed(
        sim,
        "GET",
        "/v5/order/realtime",
        {"category": "linear", "symbol": "BTCUSDT"},
        key=key,
        secret=secret,
    ).json()
    sides = {o["side"] for o in reply["result"]["list"]}
    pos = signed(
        sim,
        "GET",
        "/v5/position/list",
        {"category": "linear", "symbol": "BTCUSDT"},
        key=key,
        secret=secret,
    ).json()["result"]["list"][0]
    size = Decimal(pos["size"]) * (1 if pos["side"] == "Buy" else -1)
    return sides, size


def test_bundled_bot_rests_on_both_sides(tmp_path: Path) -> None:
    binary = str(Path(sys.executable).with_name("mmbot"))
    env = {**os.environ, "CI": "true"}
    with launch_sim(binary, env, tmp_path, "--seed", "3") as sim:
        remote = RemoteSim(sim.rest_url)
        bot_env = {
            **env,
            "MMBOT_REST_URL": sim.rest_url,
            "MMBOT_WS_PUBLIC_URL": f"{sim.ws_url}/v5/public/linear",
            "MMBOT_WS_PRIVATE_URL": f"{sim.ws_url}/v5/private",
            "MMBOT_CREDENTIALS_DIR": str(tmp_path / "creds"),
            "MMBOT_SYMBOL": "BTCUSDT",
            "MMBOT_METRICS_PORT": "0",
        }
        log_path = tmp_path / "bot.log"
        with log_path.open("w") as log:
            bot = subprocess.Popen(
                [binary, "run"], env=bot_env, stdout=log, stderr=subprocess.STDOUT, text=True
            )
            try:
                deadline = time.monotonic() + 30
                while not _open_sides(remote, sim.api_key, sim.api_secret)[0]:
                    assert bot.poll() is None, log_path.read_text()[-2000:]
                    assert time.monotonic() < deadline, "the bot placed no order in 30 s"
                    time.sleep(0.2)
                both = allowed = 0
                end = time.monotonic() + 60
                while time.monotonic() < end:
                    sides, position = _open_sides(remote, sim.api_key, sim.api_secret)
                    if abs(position) < Decimal("0.01"):  # below the bot's default limit
                        allowed += 1
                        both += sides == {"Buy", "Sell"}
                    time.sleep(0.5)
                assert bot.poll() is None, log_path.read_text()[-2000:]
                refusals = _submit_rate_refusals(log_path)
            finally:
                bot.terminate()
                try:
                    bot.wait(40)
                except subprocess.TimeoutExpired:
                    bot.kill()
                    bot.wait(10)
    assert allowed >= 20, f"the position sat at its limit most of the minute ({allowed} samples)"
    fraction = both / allowed
    assert fraction >= TWO_SIDED_MIN, (fraction, both, allowed)
    print(f"two-sided {fraction:.3f} ({both}/{allowed}), submit-rate refusals {refusals}")
    assert refusals <= 10, f"{refusals} submit-rate refusals in about a minute"


def _submit_rate_refusals(log_path: Path) -> float:
    """``mmbot_risk_rejections_total{reason="submit_rate"}`` from the bot's own /metrics."""
    found = re.search(r"metrics listening on (\S+)/metrics", log_path.read_text())
    assert found, "the bot logged no metrics URL"
    text = requests.get(f"{found.group(1)}/metrics", timeout=5).text
    value = re.search(r'mmbot_risk_rejections_total\{reason="submit_rate"\} (\S+)', text)
    return float(value.group(1)) if value else 0.0
