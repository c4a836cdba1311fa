"""Readiness of profile services: a file appears, a TCP port accepts, or a URL answers 2xx.

A JSON ready file's values (``{"rest_url": ...}``) become ``{services.NAME.KEY}`` placeholders
for the commands and env started after it.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from soakctl.profile import Ready


def probe(ready: Ready, expand: Any) -> tuple[bool, dict[str, Any]]:
    """One readiness probe; returns (ready, values from the ready file)."""
    if ready.file is not None:
        path = Path(expand(ready.file))
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return False, {}
        if not text.strip():
            return False, {}
        try:
            values = json.loads(text)
        except ValueError:
            return path.suffix != ".json", {}
        return True, values if isinstance(values, dict) else {}
    if ready.tcp is not None:
        host, _, port = expand(ready.tcp).rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=0.5):
                return True, {}
        except (OSError, ValueError):
            return False, {}
    if ready.http is not None:
        url = expand(ready.http)
        if not url.startswith(("http://", "https://")):
            return False, {}
        try:
            with urllib.request.urlopen(url, timeout=1.0) as resp:  # noqa: S310 - http(s) only
                return 200 <= resp.status < 300, {}
        except (OSError, urllib.error.URLError, ValueError):
            return False, {}
    return True, {}
