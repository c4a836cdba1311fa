"""Append-only JSON-lines files that survive the writer being killed.

Each record is encoded with orjson and written with a single ``os.write`` on an ``O_APPEND``
descriptor, so a record is in the file whole or (if soakctl is killed inside the call) at worst
as one truncated last line, which the analysis skips with a warning. No user-space buffer is
left behind to lose. A write that fails (disk full, file size limit, read-only remount) is
undone by truncating the file back to its last whole line, then raised as
:class:`~soakctl.errors.WriteFailed`: the lines already written stay valid.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from soakctl.errors import WriteFailed

_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


class JsonlSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
        self._fd: int | None = os.open(path, flags, 0o644)
        self._size = os.fstat(self._fd).st_size
        self.lines = 0

    def write(self, record: Mapping[str, Any]) -> None:
        if self._fd is None:
            return
        data = orjson.dumps(record, option=_OPTS) + b"\n"
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            with contextlib.suppress(OSError):  # drop the part of the line that made it
                os.ftruncate(self._fd, self._size)
            raise WriteFailed(self.path, exc) from exc
        self._size += len(data)
        self.lines += 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> JsonlSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
