"""``{run_dir}``, ``{secrets_dir}``, ``{python}``, ``{examples_dir}``, ``{ports.NAME}`` and
``{services.NAME.KEY}`` in profile commands, env values and paths.

``{examples_dir}`` is where the example bots shipped with soakctl are (``examples/`` of a source
checkout, a copy inside the installed package otherwise), so a bundled profile that soaks one
runs from any directory.

``{python}`` is the interpreter soakctl runs on (its venv's ``python``), so a profile can start a
Python target with the packages installed beside soakctl whether or not the venv is activated.

``{secrets_dir}`` is a private directory outside the run directory for credentials made for the
run, removed when the run ends (:mod:`soakctl.runsecrets`).

``{ports.NAME}`` is a free loopback TCP port chosen when first used and the same for every later
use in the run, so a profile can hand the target a metrics port and scrape it without fixing a
number that two runs on one machine would fight over. Only these placeholders are expanded;
any other text in braces is left alone so JSON or shell snippets in arguments survive. A
``services`` placeholder naming a service or key that does not exist (yet) is an error naming it.
"""

from __future__ import annotations

import re
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from soakctl.errors import ProfileError

_PLACEHOLDER = re.compile(
    r"\{(run_dir|secrets_dir|python|examples_dir|ports\.[A-Za-z0-9_-]+|services\.[A-Za-z0-9_.-]+?\.[A-Za-z0-9_]+)\}"
)
_PORTS: dict[str, int] = {}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SecretsDir = str | Callable[[], str] | None


def examples_dir() -> Path:
    """The bundled examples: inside the package (wheel) or the source checkout's ``examples/``."""
    packaged = Path(__file__).resolve().parent / "_examples"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "examples"


def expand(text: str, run_dir: str, services: dict[str, dict[str, Any]],
           ports: dict[str, int] | None = None, secrets_dir: SecretsDir = None) -> str:
    """Expand the placeholders in ``text``; ``ports`` holds the run's allocated ports and
    ``secrets_dir`` is the credentials directory or a function making it on first use."""
    port_table = _PORTS if ports is None else ports

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "run_dir":
            return run_dir
        if key == "python":
            return sys.executable
        if key == "examples_dir":
            return str(examples_dir())
        if key == "secrets_dir":
            if secrets_dir is None:
                raise ProfileError("placeholder {secrets_dir}: only available during a run")
            return secrets_dir if isinstance(secrets_dir, str) else secrets_dir()
        if key.startswith("ports."):
            name = key.removeprefix("ports.")
            if name not in port_table:
                port_table[name] = free_port()
            return str(port_table[name])
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


def expand_all(items: list[str], run_dir: str, services: dict[str, dict[str, Any]],
               ports: dict[str, int] | None = None, secrets_dir: SecretsDir = None) -> list[str]:
    return [expand(item, run_dir, services, ports, secrets_dir) for item in items]
