"""The run directory: its unique name, the host description, and atomic ``run.json`` writes.

Layout and fields: ``docs/run-files.md``.
"""

from __future__ import annotations

import errno
import os
import platform
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from soakctl.contracts import Host
from soakkit.atomic import write_bytes_atomic


def ensure_dir(path: Path) -> Path:
    """``path`` as a directory, created with its parents; a file in the way is named as such
    (``mkdir`` alone says "File exists", which sends users looking for a directory)."""
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(part))
        if part.is_dir():
            break
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_run_dir(out: Path, now: float | None = None) -> tuple[str, Path]:
    """Create ``out/<run_id>`` with ``logs/``; ``run_id`` like ``20261124T121500Z``, made unique."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now if now is not None else time.time()))
    ensure_dir(out)
    for n in range(1, 10_000):
        run_id = stamp if n == 1 else f"{stamp}-{n}"
        path = out / run_id
        try:
            path.mkdir()
        except FileExistsError:
            continue
        (path / "logs").mkdir()
        return run_id, path
    raise FileExistsError(f"no free run directory name under {out}")


def host_info() -> Host:
    import psutil  # only the runner needs it; keep `soakctl analyze` imports light

    return {  # soakctl.contracts.Host
        "os": platform.system(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "memory_bytes": psutil.virtual_memory().total,
        "hostname": socket.gethostname(),
    }


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write then rename, so a reader (or a crash) never sees half a file."""
    write_bytes_atomic(path, orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


def dir_size(path: Path) -> int:
    """Bytes of every file under ``path`` (links not followed); vanished files are skipped."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total
