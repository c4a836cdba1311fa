"""Recovery from the simulator's faults: socket drops (reconnects == drops, delays on the
backoff formula), stalls (silence watchdog, no quoting on a stale book), ``u`` gaps, resets
and crossed books (resync without reconnect), and REST 5xx / 10016 / 10006 / ghost orders
(unknown orders reconciled; the bot's open orders agree with the venue's)."""

from __future__ import annotations

import re
import signal
import time

import pytest
from mmbot_procs import BotProc, Sim, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.linux_only("stops the bot with SIGTERM")]

BASE_S, JITTER = 0.2, 0.3


def _injected(sim: Sim, name: str) -> int:
    return int(sim.stats()["faults_injected"][name])


def _reconnects(bot: BotProc, ws_type: str) -> float:
    return bot.metric("ws_reconnect_attempts_total", ws_type=ws_type) or 0.0


def _stop_clean(sim: Sim, bot: BotProc) -> None:
    code, elapsed_s = bot.stop(signal.SIGTERM)
    assert code == 0, bot.log.read_text()[-3000:]
    assert elapsed_s < 40
    assert sim.stats()["open_orders"] == 0


def test_ws_drops_reconnect_once_per_drop_on_the_backoff_formula(sim_factory, bot_factory):
    sim = sim_factory()
    bot = bot_factory(sim, {"ws": {"backoff_base_s": BASE_S, "backoff_jitter": JITTER}})
    sim.faults({"ws_drop_every_s": 3.5})  # >> a reconnect: each drop hits open sockets
    wait_for(lambda: _injected(sim, "ws_drop_every_s") >= 3, 30, "three drops")
    sim.faults({})
    drops = _injected(sim, "ws_drop_every_s")
    for ws_type in ("public", "private"):
        wait_for(lambda t=ws_type: _reconnects(bot, t) == drops, 15, f"{ws_type} reconnects")
    wait_for(lambda: bot.health()[0] == 200, 15, "quoting again")
    # Each drop was followed by one successful attempt, so every delay is attempt 0's:
    # base * 2**0 plus 0-30 % jitter.
    delays = [
        float(m.group(1))
        for line in bot.log_lines()
        if (m := re.search(r"reconnecting in ([\d.]+)s", line.get("msg", "")))
    ]
    assert len(delays) == 2 * drops
    assert all(BASE_S - 0.005 <= d <= BASE_S * (1 + JITTER) + 0.005 for d in delays), delays
    assert (bot.metric("ws_max_reconnect_reached_total") or 0) == 0
    # Fills during the drops were fetched over REST after each reconnect: same position.
    wait_for(
        lambda: abs((bot.metric("mmbot_position") or 0) - sim.position()) < 1e-9,
        15,
        "the bot's position to match the venue's",
    )
    _stop_clean(sim, bot)


def test_stall_trips_the_watchdog_and_pauses_quoting(sim_factory, bot_factory):
    sim = sim_factory()
    bot = bot_factory(sim)
    sim.faults({"ws_stall_every_s": 1, "ws_stall_s": 4})
    reasons: set[str] = set()

    def paused_seen() -> bool:
        status, body = bot.health()
        if status == 503:
            reasons.add(body.get("reason", ""))
        return bool(reasons) and (bot.metric("mmbot_ws_drops_total", reason="silence") or 0) > 0

    wait_for(paused_seen, 30, "a stall detected by the silence watchdog", step_s=0.05)
    assert reasons & {"book stale", "public stream down", "private stream down"}
    sim.faults({})
    wait_for(lambda: bot.health()[0] == 200, 20, "quoting again after the stall")
    _stop_clean(sim, bot)


def test_book_gaps_resets_and_crossed_books_resync_without_reconnect(sim_factory, bot_factory):
    sim = sim_factory()
    bot = bot_factory(sim)
    sim.faults(
        {
            "book_gap_every_s": 0.7,
            "book_reset_every_s": 1.3,
            "book_crossed_every_s": 1.9,
            "book_dup_every_s": 0.5,
        }
    )
    wait_for(
        lambda: (
            _injected(sim, "book_gap_every_s") >= 3 and _injected(sim, "book_crossed_every_s") >= 1
        ),
        30,
        "gaps and a crossed book",
    )
    sim.faults({})
    assert (bot.metric("mmbot_book_resyncs_total", reason="gap") or 0) >= 2
    assert (bot.metric("mmbot_book_resyncs_total", reason="crossed") or 0) >= 1
    # One resubscribe per anomaly: deltas in flight meanwhile don't trigger more, and a
    # duplicated delta is skipped, not resynced.
    assert _injected(sim, "book_dup_every_s") >= 2
    resyncs = bot.metric("mmbot_book_resyncs_total") or 0
    gaps_and_crosses = _injected(sim, "book_gap_every_s") + _injected(sim, "book_crossed_every_s")
    assert resyncs <= gaps_and_crosses
    wait_for(lambda: bot.health()[0] == 200, 15, "quoting on a resynced book")
    assert _reconnects(bot, "public") == 0  # resubscribe, not reconnect
    sent_before = bot.metric("mmbot_orders_total", result="ok") or 0
    wait_for(
        lambda: (bot.metric("mmbot_orders_total", result="ok") or 0) > sent_before,
        15,
        "new order requests after the resync",
    )
    _stop_clean(sim, bot)


def test_rest_errors_and_ghost_orders_are_reconciled(sim_factory, bot_factory):
    sim = sim_factory("--ghost-hold-s", "2.5")
    bot = bot_factory(sim, {"http": {"timeout_s": 1.0}})
    sim.faults(
        {
            "http_5xx_rate": 0.1,
            "http_10016_rate": 0.1,
            "rate_limit_rate": 0.15,
            "ghost_order_rate": 0.15,
        }
    )
    wait_for(
        lambda: all(
            _injected(sim, n) >= 1
            for n in ("http_5xx_rate", "http_10016_rate", "rate_limit_rate", "ghost_order_rate")
        ),
        # Each fault hits a random 10-15 % of the bot's requests, and the paced maker sends a
        # request or two a second: usually ~15 s, but a bound near that is a coin toss.
        120,
        "every REST fault injected",
        step_s=0.3,
    )
    wait_for(
        lambda: (bot.metric("mmbot_orders_total", result="unknown") or 0) >= 1,
        30,
        "an order in unknown state",
    )
    sim.faults({})
    wait_for(lambda: bot.metric("mmbot_unknown_orders") == 0, 30, "unknown orders resolved")
    assert (bot.metric("mmbot_reconciliations_total") or 0) >= 1
    assert bot.proc.poll() is None
    wait_for(lambda: bot.health()[0] == 200, 20, "quoting again")

    def agree() -> bool:  # the bot's view of its open orders matches the venue's
        ours = bot.metric("mmbot_open_orders")
        time.sleep(0.05)
        return ours == sim.stats()["open_orders"] == bot.metric("mmbot_open_orders")

    wait_for(agree, 20, "bot and venue agree on open orders", step_s=0.2)
    _stop_clean(sim, bot)
