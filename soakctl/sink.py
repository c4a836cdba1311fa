"""Append-only JSON-lines files that survive the writer being killed.

Each record is encoded with orjson and written with a single ``os.write`` on an ``O_APPEND``
descriptor, so a record is in the file whole or (if soakctl is killed inside the call) at worst
as one truncated last line, which the analysis skips with a warning. No user-space buffer is
left behind to lose.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


class JsonlSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
        self._fd: int | None = os.open(path, flags, 0o644)
        self.lines = 0

    def write(self, record: Mapping[str, Any]) -> None:
        if self._fd is None:
            return
        data = orjson.dumps(record, option=_OPTS) + b"\n"
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.lines += 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> JsonlSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
