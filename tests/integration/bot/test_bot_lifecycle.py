"""The bot against a real ``mmbot sim``: post-only quotes, maker rebates, position limit,
graceful SIGTERM with zero open orders, kill -9 + restart reconciliation, and no secret in any
log line, metric or file of the run."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from mmbot_procs import BotProc, http_json, run_orders, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.linux_only("stops the bot with SIGTERM/SIGKILL")]

MAX_POSITION = 0.003


def _open_orders(mmbot: str, bot: BotProc) -> list[dict[str, str]]:
    out = run_orders(mmbot, bot.env, "--json")
    assert out.returncode == 0, out.stderr
    return list(json.loads(out.stdout)["open_orders"])


def test_quotes_rebates_position_sigterm_and_no_secret_leak(
    sim_factory, bot_factory, mmbot_bin: str, tmp_path: Path
) -> None:
    sim = sim_factory("--taker-rate", "6")
    bot = bot_factory(sim, {"risk": {"max_position": MAX_POSITION}, "log_level": "DEBUG"})

    # Quotes rest on the venue, post-only, at most one per side and level.
    wait_for(lambda: sim.stats()["open_orders"] >= 1, 20, "a resting quote")
    page = http_json(f"{sim.rest_url}/sim/stats")
    assert page["open_orders"] <= 2

    # Maker fills earn rebates, visible in the bot's metrics; the position stays in its limit.
    positions = []

    def rebates_earned() -> bool:
        positions.append(bot.metric("mmbot_position") or 0.0)
        fills = bot.metric("mmbot_fills_total", liquidity="maker") or 0
        return fills >= 4 and (bot.metric("mmbot_rebates_earned_total") or 0) > 0

    wait_for(rebates_earned, 60, "maker fills with rebates", step_s=0.3)
    assert (bot.metric("mmbot_fills_total", liquidity="taker") or 0) == 0
    assert max(abs(p) for p in positions) <= MAX_POSITION + 1e-12
    assert bot.health()[0] == 200
    metrics_text = bot.metrics_text()
    for name in (
        "ws_reconnect_attempts_total",
        "ws_reconnect_delay_seconds",
        "ws_max_reconnect_reached_total",
        "http_pool_connections_limit",
        "mmbot_open_orders",
        "mmbot_rest_latency_seconds_bucket",
        "mmbot_book_staleness_seconds",
    ):
        assert name in metrics_text
    # What rests on the venue is ours and post-only.
    resting = wait_for(lambda: _open_orders(mmbot_bin, bot), 20, "a listed quote")
    for order in resting:
        assert order["orderLinkId"].startswith("mm") and order["timeInForce"] == "PostOnly"

    code, elapsed_s = bot.stop(signal.SIGTERM)
    assert code == 0, bot.log.read_text()[-3000:]
    assert elapsed_s < 40
    assert sim.stats()["open_orders"] == 0
    assert run_orders(mmbot_bin, bot.env, "--open", "--fail-if-any").returncode == 0

    # The API key and secret appear nowhere: logs, metrics, any file the run left behind.
    key, secret = sim.secret_values()
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.parent != sim.creds_dir:
            text = path.read_text(errors="replace")
            assert secret not in text, path
            assert key not in text, path
    for text in bot.scrapes:
        assert secret not in text and key not in text
    assert any(line.get("level") == "DEBUG" for line in bot.log_lines())


def test_kill9_then_restart_cancels_strays(sim_factory, bot_factory, mmbot_bin: str) -> None:
    # Quotes far from the touch, so the market does not fill them in the seconds this takes.
    far = {"strategy": {"levels": 2, "offset_ticks": 3000}}
    sim = sim_factory("--taker-rate", "0")
    bot = bot_factory(sim, far)
    wait_for(lambda: sim.stats()["open_orders"] >= 4, 20, "resting quotes")
    bot.stop(signal.SIGKILL)
    assert sim.stats()["open_orders"] >= 4
    listed = run_orders(mmbot_bin, bot.env, "--open", "--fail-if-any")
    assert listed.returncode == 1 and "4 open order(s)" in listed.stdout

    again = bot_factory(sim, {"strategy": {"levels": 1, "offset_ticks": 3000}})
    cancelled = wait_for(
        lambda: again.metric("mmbot_reconciliations_total", outcome="stray_cancelled"),
        20,
        "strays cancelled at startup",
    )
    assert cancelled == 4
    assert any("earlier run" in line.get("msg", "") for line in again.log_lines())
    wait_for(lambda: sim.stats()["open_orders"] == 2, 20, "only the new quotes")
    code, _ = again.stop()
    assert code == 0
    assert sim.stats()["open_orders"] == 0


def test_orders_cancel_all_and_bad_config(
    sim_factory, bot_factory, mmbot_bin: str, tmp_path: Path
) -> None:
    sim = sim_factory("--taker-rate", "0")
    bot = bot_factory(sim, {"strategy": {"offset_ticks": 3000}})
    wait_for(lambda: sim.stats()["open_orders"] >= 2, 20, "resting quotes")
    bot.stop(signal.SIGKILL)
    done = run_orders(mmbot_bin, bot.env, "--cancel-all", "--fail-if-any")
    assert done.returncode == 0, done.stderr
    assert sim.stats()["open_orders"] == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("strategy: {levles: 2}\n")
    result = run_orders(mmbot_bin, bot.env, "--config", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"mmbot: {bad}: strategy.levles: unknown key"]


def test_inject_leak_grows_rss_at_the_asked_rate(sim_factory, bot_factory) -> None:
    import psutil

    sim = sim_factory()
    bot = bot_factory(sim, None, "--inject-leak", "7200")  # 2 MiB/s: visible in seconds
    proc = psutil.Process(bot.proc.pid)
    start_rss = proc.memory_info().rss
    leaked = wait_for(
        lambda: (
            (bot.metric("mmbot_injected_leak_bytes") or 0) >= 10 * 2**20
            and bot.metric("mmbot_injected_leak_bytes")
        ),
        20,
        "10 MiB leaked",
    )
    # Resident, not just allocated (allowing a few MiB the allocator may have given back).
    assert proc.memory_info().rss - start_rss >= 0.7 * leaked - 3 * 2**20
    code, _ = bot.stop()
    assert code == 0


def test_sigterm_with_the_exchange_gone_exits_within_the_bound(sim_factory, bot_factory):
    sim = sim_factory()
    bot = bot_factory(sim, {"shutdown_timeout_s": 10})
    sim.proc.kill()
    sim.proc.wait(timeout=10)
    code, elapsed_s = bot.stop(signal.SIGTERM)
    assert code == 1  # orders could not be confirmed cancelled: say so
    assert elapsed_s < 25  # bounded by shutdown_timeout_s (10 s here) plus process exit
    assert any(
        "orders" in line.get("msg", "") and line.get("level") == "ERROR" for line in bot.log_lines()
    )


def test_refused_credentials_stop_the_bot_without_leaking_them(
    sim_factory, mmbot_bin: str, clean_env: dict[str, str], tmp_path: Path
) -> None:
    import subprocess

    sim = sim_factory()
    key, _ = sim.secret_values()
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "bybit_api_key").write_text(key + "\n")  # the venue echoes it back in 10004
    (wrong / "bybit_api_secret").write_text("not-the-right-secret-value\n")
    env = dict(
        clean_env,
        MMBOT_REST_URL=sim.rest_url,
        MMBOT_CREDENTIALS_DIR=str(wrong),
        MMBOT_WS_PUBLIC_URL=str(sim.urls["ws_public_url"]),
        MMBOT_WS_PRIVATE_URL=str(sim.urls["ws_private_url"]),
        MMBOT_METRICS_PORT="0",
    )
    result = subprocess.run(
        [mmbot_bin, "run"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2  # permanent: bad input (issue 10), no longer a run failure
    assert "credentials refused" in result.stderr
    assert key not in result.stderr + result.stdout
    assert "not-the-right-secret-value" not in result.stderr + result.stdout
