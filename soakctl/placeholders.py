"""``{run_dir}`` and ``{services.NAME.KEY}`` in profile commands, env values and paths.

Only these placeholders are expanded; any other text in braces is left alone so JSON or shell
snippets in arguments survive. A ``services`` placeholder naming a service or key that does not
exist (yet) is an error naming it.
"""

from __future__ import annotations

import re
from typing import Any

from soakctl.errors import ProfileError

_PLACEHOLDER = re.compile(r"\{(run_dir|services\.[A-Za-z0-9_.-]+?\.[A-Za-z0-9_]+)\}")


def expand(text: str, run_dir: str, services: dict[str, dict[str, Any]]) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "run_dir":
            return run_dir
        _, rest = key.split(".", 1)
        name, _, field = rest.rpartition(".")
        if name not in services:
            raise ProfileError(f"placeholder {{{key}}}: no service {name!r} started before it")
        values = services[name]
        if field not in values:
            known = ", ".join(sorted(values)) or "none (no ready file values)"
            raise ProfileError(
                f"placeholder {{{key}}}: service {name!r} has no {field!r} ({known})"
            )
        return str(values[field])

    return _PLACEHOLDER.sub(replace, text)


def expand_all(items: list[str], run_dir: str, services: dict[str, dict[str, Any]]) -> list[str]:
    return [expand(item, run_dir, services) for item in items]
