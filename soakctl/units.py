"""Parsing of the human units used on the command line and in profiles.

Durations: ``90s``, ``30m``, ``2h``, ``1h30m``, ``1d``, ``500ms``, ``1.5h`` or plain seconds.
Sizes: ``50MB``, ``1MiB``, ``1GB``, ``512k`` or plain bytes. Decimal prefixes are powers of
1000 and binary ones (``KiB``, ``MiB``) powers of 1024, as in k6, Docker and systemd.
"""

from __future__ import annotations

import json
import math
import re

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?", re.IGNORECASE)
_SIZE_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


def parse_duration(value: str | float) -> float:
    """Return seconds for ``value``; raise ``ValueError`` with the accepted forms if invalid."""
    if isinstance(value, bool):
        raise ValueError(_bad_duration(value))
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            seconds = _parse_compound(text, value)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(_bad_duration(value))
    return seconds


def _bad_duration(value: object) -> str:
    return f"expected a duration, got {json.dumps(value)} (use 90s, 30m, 2h, 1h30m or seconds)"


def _parse_compound(text: str, original: str) -> float:
    pos = 0
    total = 0.0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if match is None:
            raise ValueError(_bad_duration(original))
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not text:
        raise ValueError(_bad_duration(original))
    return total


def _bad_size(value: object) -> str:
    return f"expected a size, got {json.dumps(value)} (use 50MB, 1MiB, 1GB or bytes)"


def parse_size(value: str | int) -> int:
    """Bytes for ``value`` (``50MB``, ``1MiB``, ``4096``); ``ValueError`` if invalid."""
    if isinstance(value, bool):
        raise ValueError(_bad_size(value))
    if isinstance(value, int):
        if value < 0:
            raise ValueError(_bad_size(value))
        return value
    match = _SIZE.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(_bad_size(value))
    number = float(match.group(1))
    suffix = (match.group(2) or "").lower()
    binary = "i" in suffix
    prefix = suffix.rstrip("b").rstrip("i")
    base = 1024 if binary else 1000
    return int(number * base ** _SIZE_POWERS[prefix])


def format_duration(seconds: float) -> str:
    """``5400`` -> ``1h30m``; the inverse of :func:`parse_duration` for whole seconds."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        exact = seconds >= 10 or seconds == int(seconds)
        return f"{seconds:.0f}s" if exact else f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs and not hours:
        parts.append(f"{secs}s")
    return "".join(parts) or "0s"


def format_bytes(n: float) -> str:
    """``1536`` -> ``1.5 KiB``."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"  # pragma: no cover - loop always returns
