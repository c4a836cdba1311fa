"""``redaction``: a synthetic secret sent through the bot's logging pipeline comes out masked.

The bot logs JSON lines through one handler carrying :class:`bot.common.redact.RedactionFilter` and
:class:`bot.logs.JsonFormatter` (which redacts the serialised line again). This check builds
that same handler on a private logger, registers a freshly generated fake key and secret the
way loading real ones does (:class:`bot.common.secrets.Secret`), and logs them in the shapes
that leak in practice: the bare value, ``api_key=...``, a JSON body, a signature header, an
``extra`` field, an exception message. Any of them in the output is a ``fail``. The bot modules are
imported lazily: without them the check is skipped with the reason.
"""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Callable

from checks.base import Check, Outcome
from checks.context import CheckContext

HandlerFactory = Callable[[io.StringIO], logging.Handler]


def bot_handler(stream: io.StringIO) -> logging.Handler:
    """The handler ``bot.logs.setup_logging`` installs, writing to ``stream``."""
    from bot.common.redact import RedactionFilter
    from bot.logs import JsonFormatter

    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter())
    return handler


def _log_samples(logger: logging.Logger, key: str, secret: str, signature: str) -> None:
    logger.info("loaded key %s", key)
    logger.info("api_key=%s api_secret=%s", key, secret)
    logger.info('body {"apiKey": "%s", "secret": "%s"}', key, secret)
    logger.info("X-BAPI-SIGN: %s", signature)
    logger.info("order sent", extra={"auth": f"{key}:{secret}"})
    try:
        raise ValueError(f"bad secret {secret}")
    except ValueError:
        logger.exception("request failed")


class RedactionCheck(Check):
    name = "redaction"
    description = "a synthetic secret through the bot's log redaction comes out masked"
    timeout_s = 5.0

    def __init__(self, handler_factory: HandlerFactory | None = None) -> None:
        self._handler_factory = handler_factory or bot_handler

    def run(self, ctx: CheckContext) -> Outcome:
        stream = io.StringIO()
        try:
            handler = self._handler_factory(stream)
            from bot.common.secrets import Secret
        except ImportError as exc:
            return Outcome.skip(f"the bot's log redaction is not available: {exc}")
        key, secret, signature = secrets.token_hex(9), secrets.token_hex(18), secrets.token_hex(32)
        Secret(key), Secret(secret)  # registering is what loading real credentials does
        logger = logging.getLogger(f"soakctl.verify.redaction.{secrets.token_hex(4)}")
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        try:
            _log_samples(logger, key, secret, signature)
        finally:
            logger.removeHandler(handler)
            handler.close()
        output = stream.getvalue()
        lines = output.count("\n")
        leaked = [
            label
            for label, value in (("key", key), ("secret", secret), ("signature", signature))
            if value in output
        ]
        if leaked:
            return Outcome.fail(
                f"the synthetic {', '.join(leaked)} appeared unmasked in {lines} log lines",
                fix="attach bot.common.redact.RedactionFilter to every log handler and register "
                "loaded secrets (bot.common.secrets.Secret does)",
            )
        return Outcome.ok(f"key, secret and signature masked in {lines} log lines")
