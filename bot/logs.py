"""Logging setup for the bot's entry point: JSON lines (orjson) on stderr, redacted.

Library modules only call ``logging.getLogger(__name__)``; this is the one place that adds a
handler, and every handler gets :class:`~bot.common.redact.RedactionFilter`. Each line is one JSON
object: ``ts`` (ISO 8601 UTC), ``level``, ``logger``, ``msg``, and ``exc`` (the traceback,
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


def setup_logging(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """JSON lines on ``stream`` (stderr) for the root logger, redaction on the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("websockets", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
