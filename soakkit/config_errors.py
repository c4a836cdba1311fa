"""One line for an invalid configuration file: ``FILE: KEY.PATH: REASON``.

Profiles (soakctl), the bot's config and the audit ignore file are pydantic models; their
validation errors all read the same way: the file, the dotted key path of the first problem
(``(top level)`` for the document itself), the reason in plain words, and how many other
problems there are. For example::

    workflows/x.yaml: target.backoff.base: expected a duration, got 'fast'
    bot.yaml: strategy.levles: unknown key
    bot.yaml: exchange.symbol (or env MMBOT_SYMBOL): String should match pattern ...
    audit-ignore.yaml: ignore.0.reason: required key is missing (and 1 more problem)
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError

_REASONS = {"extra_forbidden": "unknown key", "missing": "required key is missing"}


def key_path(loc: tuple[int | str, ...]) -> str:
    """``("target", "backoff", "base")`` -> ``target.backoff.base``."""
    return ".".join(str(p) for p in loc) or "(top level)"


def format_validation_error(source: str, exc: ValidationError,
                            origin: Callable[[str], str | None] | None = None) -> str:
    """``SOURCE: KEY.PATH[ (or ORIGIN)]: REASON[ (and N more problems)]``, one line.

    ``origin(path)`` may name another place the value came from (an environment variable).
    """
    errors = exc.errors()
    first = errors[0]
    path = key_path(tuple(first["loc"]))
    reason = _REASONS.get(first["type"]) or str(first["msg"]).removeprefix("Value error, ")
    where = origin(path) if origin is not None else None
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    line = f"{source}: {path}{f' (or {where})' if where else ''}: {reason}{suffix}"
    return line.replace("\n", " ")  # one line, whatever the reason's text holds
