"""Helpers for soak integration tests: run the real CLI, read its files, wait for processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psutil

TARGETS = Path(__file__).parent / "targets"
PY = sys.executable

def soakctl() -> str:
    """The console script beside this interpreter (``soakctl.exe`` on Windows)."""
    beside = Path(sys.executable).parent
    exe = beside / "soakctl.exe"
    return str(exe if sys.platform == "win32" and exe.exists() else beside / "soakctl")


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CI"] = "true"
    env.pop("SOAKCTL_DEBUG", None)
    return env


def run_cli(
    args: list[str], *, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [soakctl(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_dir_of(proc: subprocess.CompletedProcess[str]) -> Path:
    first = proc.stdout.splitlines()[0]
    return Path(first)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def events(run_dir: Path, kind: str | None = None) -> list[dict[str, Any]]:
    found = read_jsonl(run_dir / "events.jsonl")
    return [e for e in found if kind is None or e["event"] == kind]


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def alive(pid: int) -> bool:
    """Running and not a zombie (a zombie of init is as good as gone)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_quietly(pids: list[int]) -> None:
    for pid in pids:
        with suppress(OSError):
            os.kill(pid, 9)


def write_profile(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@contextmanager
def spawn_cli(args: list[str]) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """Start ``soakctl ARGS`` in the background; yields it and its run directory (first line).

    Always killed and its pipe closed on the way out.
    """
    proc = subprocess.Popen(
        [soakctl(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=cli_env(),
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        run_dir = Path(proc.stdout.readline().strip())
        yield proc, run_dir
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
