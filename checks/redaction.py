"""``redaction``: a synthetic secret sent through the bot's logging pipeline comes out masked.

The bot masks secrets with :class:`bot.redact.RedactionFilter` on every handler. This check
builds the same kind of handler, registers a freshly generated fake key and secret the way
loading real ones does (:class:`bot.secrets.Secret`), and logs them in the shapes that leak in
practice: the bare value, ``api_key=...``, a JSON body, a signature header, an exception
message. Any of them in the output is a ``fail``. The bot modules are imported lazily: without
them the check is skipped with the reason.
"""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Callable

from checks.base import Check, Outcome
from checks.context import CheckContext

FilterFactory = Callable[[], logging.Filter]


def _bot_filter() -> logging.Filter:
    from bot.redact import RedactionFilter

    return RedactionFilter()


class RedactionCheck(Check):
    name = "redaction"
    description = "a synthetic secret through the bot's log redaction comes out masked"
    timeout_s = 5.0

    def __init__(self, filter_factory: FilterFactory | None = None) -> None:
        self._filter_factory = filter_factory or _bot_filter

    def run(self, ctx: CheckContext) -> Outcome:
        try:
            redaction_filter = self._filter_factory()
            from bot.secrets import Secret
        except ImportError as exc:
            return Outcome.skip(f"the bot's redaction is not available: {exc}")
        key = secrets.token_hex(9)
        secret = secrets.token_hex(18)
        Secret(key), Secret(secret)  # registering is what loading real credentials does
        signature = secrets.token_hex(32)
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.addFilter(redaction_filter)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        logger = logging.getLogger(f"soakctl.verify.redaction.{secrets.token_hex(4)}")
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        try:
            logger.info("loaded key %s", key)
            logger.info("api_key=%s api_secret=%s", key, secret)
            logger.info('body {"apiKey": "%s", "secret": "%s"}', key, secret)
            logger.info("X-BAPI-SIGN: %s", signature)
            try:
                raise ValueError(f"bad secret {secret}")
            except ValueError:
                logger.exception("request failed")
        finally:
            logger.removeHandler(handler)
        output = stream.getvalue()
        leaked = [
            label
            for label, value in (("key", key), ("secret", secret), ("signature", signature))
            if value in output
        ]
        if leaked:
            return Outcome.fail(
                f"the synthetic {', '.join(leaked)} appeared unmasked in the log output",
                fix="attach bot.redact.RedactionFilter to every log handler and register loaded "
                "secrets (bot.secrets.Secret does)",
                lines_checked=output.count("\n"),
            )
        return Outcome.ok(f"key, secret and signature masked in {output.count(chr(10))} log lines")
