"""Config: closed schema, env overrides, one-line errors; JSON log lines are redacted."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from bot.common.redact import RedactionFilter, register_secret
from bot.config import ConfigError, load_config
from bot.logs import LIBRARIES, QUIET, set_level, setup_logging


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


@pytest.fixture
def restore_loggers() -> Iterator[None]:
    """Put back the handlers, level and propagation that setup_logging changes."""
    names = ["", "bot", *LIBRARIES, *QUIET]
    saved = {n: (list(logging.getLogger(n).handlers), logging.getLogger(n).level,
                 logging.getLogger(n).propagate) for n in names}
    yield
    for n, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(n)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_logging_setup_leaves_the_root_logger_alone(restore_loggers: None) -> None:
    seen: list[logging.LogRecord] = []

    class Sentinel(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    root = logging.getLogger()
    sentinel = Sentinel()
    root.addHandler(sentinel)
    before = list(root.handlers), root.level
    stream = io.StringIO()
    setup_logging("INFO", stream)
    setup_logging("INFO", stream)  # again: still one handler, the root untouched
    assert (list(root.handlers), root.level) == before
    assert len(logging.getLogger("bot").handlers) == 1
    logging.getLogger("bot.orders").info("placed %s", "mm-1")
    logging.getLogger("websockets.client").warning("connection closed")
    logging.getLogger("someone.else").warning("not ours")
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert [(x["logger"], x["msg"]) for x in lines] == [
        ("bot.orders", "placed mm-1"), ("websockets.client", "connection closed")]
    # the bot's lines stay in the bot's handler; the application's root handler sees only its own
    assert [r.name for r in seen] == ["someone.else"]
    set_level("DEBUG")  # config log_level: the bot and its libraries, but not the chatty ones
    logging.getLogger("asyncio").debug("Using selector")
    logging.getLogger("websockets.client").debug("> TEXT frame")
    logging.getLogger("bot.book").debug("applied")
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()][2:]
    assert [(x["logger"], x["level"]) for x in lines] == [("asyncio", "DEBUG"),
                                                          ("bot.book", "DEBUG")]
    assert all(isinstance(f, RedactionFilter)
               for h in logging.getLogger("bot").handlers for f in h.filters)


def test_json_logs_redacted(restore_loggers: None) -> None:
    register_secret("LogLineSecretValue")
    stream = io.StringIO()
    setup_logging("INFO", stream)
    log = logging.getLogger("bot.test")
    log.info("signing with %s", "LogLineSecretValue", extra={"peer": "LogLineSecretValue"})
    try:
        raise RuntimeError("LogLineSecretValue")
    except RuntimeError:
        log.exception("boom")
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["msg"] == "signing with ***" and lines[0]["peer"] == "***"
    assert "RuntimeError: ***" in lines[1]["exc"]
    assert "LogLineSecretValue" not in stream.getvalue()
