"""Redaction of sensitive text before it reaches a log line, an artifact or a report.

Two layers. First the exact values of every secret registered at runtime (the bot's API key
and secret, registered by :mod:`bot.common.secrets` when loaded) are replaced wherever they appear,
whatever surrounds them. Then the original project's patterns: key/value pairs whose key names
a credential (``api_key=...``, ``"secret": "..."``, ``X-BAPI-SIGN: ...``, ``password: ...``),
bearer and long tokens, e-mail addresses, non-local IPv4 addresses (loopback, private and
link-local ranges are kept: they identify nothing outside the host) and UUID-shaped order ids.

:class:`RedactionFilter` applies this to a :class:`logging.LogRecord` (message with its
arguments, traceback, stack) and is attached to every handler the bot installs.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
from typing import Protocol

MASK = "***"
ORDER_ID_MASK = "[order-id]"
EMAIL_MASK = "[email]"
IP_MASK = "[ip]"

# Secrets shorter than this are not substituted by value: masking every "1" or "ab" would
# destroy the log without protecting anything a 4-character secret could hide.
MIN_SECRET_CHARS = 6


class _Revealable(Protocol):
    def reveal(self) -> str: ...


_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_secret_re: re.Pattern[str] | None = None

_KEY_WORDS = (
    r"api[_-]?key|api[_-]?secret|apikey|secret|password|passwd|passphrase|token|"
    r"access[_-]?key|private[_-]?key|signature|x-bapi-sign|x-bapi-api-key|authorization"
)
# key <sep> value, where the key may be quoted (JSON) and the value quoted or bare.
_KV_RE = re.compile(
    rf"""(?P<key>["']?\b(?:{_KEY_WORDS})\b["']?\s*[:=]\s*)"""
    r"""(?P<q>["']?)(?P<value>(?:Bearer\s+)?[^\s"',;&}\]]+)""",
    re.IGNORECASE,
)
_BEARER_RE = re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)
# The seed's "token.*?[a-zA-Z0-9]{20,}" and "api[_-]?key.*?[a-zA-Z0-9]{20,}", kept short-range
# so a key word cannot swallow the rest of a line.
_NEAR_RE = re.compile(
    r"(?P<key>\b(?:api[_-]?key|token)\b[^A-Za-z0-9\n]{1,20})(?P<value>[A-Za-z0-9]{20,})",
    re.IGNORECASE,
)
_EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
_IPV4_RE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_UUID_RE = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)


def register_secret(value: str | _Revealable) -> None:
    """Mask this exact value (a ``str`` or a :class:`bot.common.secrets.Secret`) from now on."""
    global _secrets, _secret_re
    text = value if isinstance(value, str) else value.reveal()
    if len(text) < MIN_SECRET_CHARS:
        return
    with _lock:
        if text in _secrets:
            return
        _secrets = _secrets | {text}
        # Longest first so a secret that contains another is masked whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_re = re.compile("|".join(re.escape(s) for s in ordered))


def clear_registered_secrets() -> None:
    """Forget every registered value (tests)."""
    global _secrets, _secret_re
    with _lock:
        _secrets = frozenset()
        _secret_re = None


def _kv(match: re.Match[str]) -> str:
    value = match.group("value")
    if value == MASK:
        return match.group(0)
    return f"{match.group('key')}{match.group('q')}{MASK}"


def _ip(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        return text  # 999.1.1.1 is a version string or a number, not an address
    if address.is_loopback or address.is_private or address.is_link_local:
        return text
    if address.is_unspecified:
        return text
    return IP_MASK


def redact(text: str) -> str:
    """``text`` with registered secrets and sensitive patterns masked."""
    pattern = _secret_re
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _KV_RE.sub(_kv, text)
    text = _BEARER_RE.sub(f"Bearer {MASK}", text)
    text = _NEAR_RE.sub(lambda m: f"{m.group('key')}{MASK}", text)
    text = _EMAIL_RE.sub(EMAIL_MASK, text)
    text = _IPV4_RE.sub(_ip, text)
    return _UUID_RE.sub(ORDER_ID_MASK, text)


class RedactionFilter(logging.Filter):
    """Rewrites each record in place: message (with arguments), traceback and stack redacted.

    Attach it to handlers (not loggers) so records propagated from any logger are covered.
    It never drops a record.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad %-format must not lose the line
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
