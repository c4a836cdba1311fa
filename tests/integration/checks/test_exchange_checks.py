"""Exchange checks against a real ``mmbot sim`` subprocess: pass, and fail for their reason."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from bot.sim.harness import limit_order
from checks.account_clean import AccountCleanCheck
from checks.base import Status
from checks.clock_skew import ClockSkewCheck
from checks.context import CheckContext, build_context
from checks.exchange_rest import ExchangeRestCheck
from checks.exchange_ws import ExchangeWsCheck
from tests.integration.checks.conftest import Sim

pytestmark = pytest.mark.slow


def context(tmp_path: Path, sim_rest_url: str, env: dict[str, str]) -> CheckContext:
    profile = tmp_path / "p.yaml"
    profile.write_text("target: {command: [mmbot, run]}\n")
    return build_context(
        str(profile),
        exchange_url=sim_rest_url,
        env=env,
        cwd=tmp_path,
        secrets_dir=tmp_path / "no-run-secrets",
    )


@pytest.fixture
def ctx(tmp_path: Path, sim: Sim) -> CheckContext:
    return context(tmp_path, sim.rest_url, {"MMBOT_CREDENTIALS_DIR": str(sim.credentials_dir)})


@pytest.fixture
def clean_sim(sim: Sim) -> Iterator[Sim]:
    yield sim
    sim.set_faults({})
    sim.post("/v5/order/cancel-all", {"category": "linear", "symbol": "BTCUSDT"})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_all_exchange_checks_pass_on_a_fresh_sim(ctx: CheckContext, clean_sim: Sim) -> None:
    for check in (ExchangeRestCheck(), ClockSkewCheck(), ExchangeWsCheck(), AccountCleanCheck()):
        outcome = check.run(ctx)
        assert outcome.status is Status.PASS, f"{check.name}: {outcome.message}"
    assert "authenticated" in ExchangeWsCheck().run(ctx).message


def test_clock_skew_fails_when_the_exchange_clock_is_off(ctx: CheckContext, clean_sim: Sim) -> None:
    clean_sim.set_faults({"clock_skew_ms": 10_000})
    outcome = ClockSkewCheck().run(ctx)
    assert outcome.status is Status.FAIL
    assert "behind the exchange (limit 2500 ms with recv_window 5000 ms)" in outcome.message
    assert 9_000 < -outcome.details["skew_ms"] < 11_000


def test_account_fails_with_an_open_order(ctx: CheckContext, clean_sim: Sim) -> None:
    ticker = clean_sim.get("/v5/market/tickers?category=linear&symbol=BTCUSDT")
    bid = Decimal(ticker["result"]["list"][0]["bid1Price"])
    price = (bid * Decimal("0.98")).quantize(Decimal("0.1"))
    placed = clean_sim.post(
        "/v5/order/create",
        limit_order(str(price)),
    )
    assert placed["retCode"] == 0, placed
    outcome = AccountCleanCheck().run(ctx)
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("1 open order(s): BTCUSDT Buy 0.001@")
    assert outcome.fix and "mmbot orders --cancel-all" in outcome.fix


def test_account_fails_with_wrong_credentials(tmp_path: Path, sim: Sim) -> None:
    creds = tmp_path / "wrong"
    creds.mkdir()
    (creds / "bybit_api_key").write_text("not-the-key")
    (creds / "bybit_api_secret").write_text("not-the-secret")
    ctx = context(tmp_path, sim.rest_url, {"MMBOT_CREDENTIALS_DIR": str(creds)})
    outcome = AccountCleanCheck().run(ctx)
    assert outcome.status is Status.FAIL
    assert "retCode 10003" in outcome.message
    ws = ExchangeWsCheck().run(ctx)
    assert ws.status is Status.FAIL
    assert "auth refused" in ws.message
    for text in (outcome.message, ws.message, outcome.fix or "", ws.fix or ""):
        assert "not-the-key" not in text and "not-the-secret" not in text


def test_ws_fails_when_the_socket_is_not_there(tmp_path: Path, sim: Sim) -> None:
    dead = f"ws://127.0.0.1:{closed_port()}/v5/public/linear"
    env = {"MMBOT_CREDENTIALS_DIR": str(sim.credentials_dir), "MMBOT_WS_PUBLIC_URL": dead}
    ctx = context(tmp_path, sim.rest_url, env)
    assert ExchangeRestCheck().run(ctx).status is Status.PASS
    outcome = ExchangeWsCheck().run(ctx)
    assert outcome.status is Status.FAIL
    assert f"{dead}: connection refused" in outcome.message


def test_exchange_down_fails_fast_with_a_reason(tmp_path: Path) -> None:
    ctx = context(tmp_path, f"http://127.0.0.1:{closed_port()}", {})
    for check in (ExchangeRestCheck(), ClockSkewCheck(), ExchangeWsCheck()):
        started = time.monotonic()
        outcome = check.run(ctx)
        assert outcome.status is Status.FAIL
        assert "connection refused" in outcome.message
        assert "--exchange-url" in outcome.message  # where the URL came from
        assert time.monotonic() - started < check.timeout_s / 2
