"""Config: closed schema, env overrides, one-line errors; JSON log lines are redacted."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import orjson
import pytest

from bot.common.redact import register_secret
from bot.config import ConfigError, load_config
from bot.logs import setup_logging


def test_defaults_target_the_simulator() -> None:
    cfg = load_config(None, {})
    assert cfg.exchange.rest_url == "http://127.0.0.1:8900"
    assert cfg.metrics.port == 9464


def test_env_overrides(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text("exchange: {symbol: ETHUSDT}\nstrategy: {levels: 2}\n")
    cfg = load_config(
        path,
        {
            "MMBOT_REST_URL": "http://127.0.0.1:1",
            "MMBOT_METRICS_PORT": "0",
            "MMBOT_SYMBOL": "BTCUSDT",
        },
    )
    assert (cfg.exchange.rest_url, cfg.metrics.port, cfg.exchange.symbol) == (
        "http://127.0.0.1:1",
        0,
        "BTCUSDT",
    )
    assert cfg.strategy.levels == 2
    with pytest.raises(Exception, match="frozen"):
        cfg.strategy.levels = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("strategy: {levles: 2}\n", "strategy.levles: unknown key"),
        ("risk: {max_position: lots}\n", "risk.max_position"),
        ("ws: {backoff_base_s: 10, backoff_max_s: 1}\n", "backoff_max_s must be"),
        ("- a list\n", "expected a mapping"),
        ("a: [unclosed\n", "invalid YAML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=needle) as info:
        load_config(path, {})
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_json_logs_redacted() -> None:
    register_secret("LogLineSecretValue")
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        setup_logging("INFO", stream)
        log = logging.getLogger("bot.test")
        log.info("signing with %s", "LogLineSecretValue", extra={"peer": "LogLineSecretValue"})
        try:
            raise RuntimeError("LogLineSecretValue")
        except RuntimeError:
            log.exception("boom")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["msg"] == "signing with ***" and lines[0]["peer"] == "***"
    assert "RuntimeError: ***" in lines[1]["exc"]
    assert "LogLineSecretValue" not in stream.getvalue()
