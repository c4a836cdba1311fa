"""Output helpers shared by the commands: TTY detection, JSON on stdout, one-line errors.

A terminal gets rich tables and live views; CI logs (``CI`` set or no TTY) get plain lines;
``--json`` gets JSON and nothing else on stdout.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import orjson


def interactive() -> bool:
    """True when stdout is a terminal and we are not in CI: rich live output is welcome."""
    return sys.stdout.isatty() and not os.environ.get("CI")


def emit_json(obj: Any) -> None:
    """Write ``obj`` as indented JSON on stdout (and nothing else)."""
    sys.stdout.buffer.write(
        orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\n"
    )
    sys.stdout.flush()


def warn(message: str) -> None:
    """One warning line on stderr, never on stdout (which may carry JSON)."""
    sys.stderr.write(f"soakctl: warning: {message}\n")
    sys.stderr.flush()
