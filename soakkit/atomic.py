"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half.

The data goes to a temporary file beside the target (same directory, so the same file system)
and is renamed over it with ``os.replace``, which is atomic on POSIX and Windows. The temporary
name carries the process id, so two writers never share one; on any failure it is removed and
the target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (see the module doc)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """:func:`write_bytes_atomic` of ``text`` encoded as UTF-8."""
    write_bytes_atomic(path, text.encode("utf-8"))
