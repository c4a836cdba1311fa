"""Logging setup for the bot's entry point: JSON lines (orjson) on stderr, redacted.

Library modules only call ``logging.getLogger(__name__)``; this is the one place that adds a
handler, and every handler gets :class:`~bot.common.redact.RedactionFilter`. It configures the
``bot`` package logger (and the libraries the bot drives, whose warnings must be redacted too),
never the root logger: an application embedding the bot keeps its own logging. Each line is one
JSON object: ``ts`` (ISO 8601 UTC), ``level``, ``logger``, ``msg``, and ``exc`` (the traceback,
redacted) when there is one. The serialised line is redacted once more, so extra fields
cannot smuggle a secret out either.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import IO

import orjson

from bot.common.redact import RedactionFilter, redact

_STD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update((k, v) for k, v in vars(record).items() if k not in _STD_ATTRS and k[:1] != "_")
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return redact(orjson.dumps(line, default=str).decode())


PACKAGE = "bot"
# Libraries the bot drives: their records go through the same redacted JSON handler.
LIBRARIES = ("asyncio", "aiohttp", "websockets")
QUIET = ("websockets", "aiohttp.access")  # chatty below WARNING: never below it


def setup_logging(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """JSON lines on ``stream`` (stderr) for the ``bot`` logger, redaction on the handler.

    Calling it again replaces the handler it installed; the root logger is left alone.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter())
    for name in (PACKAGE, *LIBRARIES):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
    set_level(level)
    return handler


def set_level(level: str | int) -> None:
    """The bot's log level (config ``log_level``), for the bot and the libraries it drives."""
    number = level if isinstance(level, int) else logging.getLevelNamesMapping()[level.upper()]
    for name in (PACKAGE, *LIBRARIES):
        logging.getLogger(name).setLevel(number)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(number, logging.WARNING))
