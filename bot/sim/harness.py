"""Driving a simulator from outside, as tests and benchmarks do: one way to start ``mmbot sim``
as a subprocess and wait for its ready file, stop it, and build the order bodies clients send.

:func:`start_sim` runs ``mmbot sim --port 0 --ready-file ... --credentials-dir ...`` plus any
extra flags, polls the ready file (bounded; a simulator that exits or never writes it raises
:class:`SimStartError` with the tail of its log when there is one) and returns the process with
its URLs. Signed requests use :func:`bot.bybit_v5.signing.rest_headers`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

READY_TIMEOUT_S = 30.0


class SimStartError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class SimProcess:
    proc: subprocess.Popen[bytes]
    urls: dict[str, str]  # rest_url, ws_public_url, ws_private_url, ... from the ready file
    credentials_dir: Path
    log: Path | None

    @property
    def rest_url(self) -> str:
        return self.urls["rest_url"]

    def credentials(self) -> tuple[str, str]:
        """The API key and secret the simulator wrote into its credentials directory."""
        key, secret = (
            (self.credentials_dir / f"bybit_api_{n}").read_text().strip() for n in ("key", "secret")
        )
        return key, secret

    def stop(self) -> None:
        stop_process(self.proc)


def mmbot_command() -> str:
    """``mmbot`` beside the running interpreter (the venv's scripts directory)."""
    name = "mmbot.exe" if sys.platform == "win32" else "mmbot"
    return str(Path(sys.executable).parent / name)


def _read_ready(ready: Path) -> dict[str, str] | None:
    try:
        found = json.loads(ready.read_text())
    except (OSError, ValueError):
        return None  # not there yet, or written half-way
    return found if isinstance(found, dict) else None


def start_sim(
    workdir: Path,
    *extra: str,
    name: str = "sim",
    credentials_dir: Path | None = None,
    log: bool = True,
    env: Mapping[str, str] | None = None,
    mmbot: str | None = None,
    timeout_s: float = READY_TIMEOUT_S,
) -> SimProcess:
    """Start ``mmbot sim`` on a free port with ``extra`` flags and wait until it is ready."""
    ready = workdir / f"{name}.json"
    creds = credentials_dir or workdir / "creds"
    log_path = workdir / f"{name}.log" if log else None
    argv: Sequence[str] = [
        mmbot or mmbot_command(),
        "sim",
        "--port",
        "0",
        "--ready-file",
        str(ready),
        "--credentials-dir",
        str(creds),
        *extra,
    ]
    out: Any = log_path.open("wb") if log_path else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
        )
    finally:
        if log_path:
            out.close()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        urls = _read_ready(ready)
        if urls is not None:
            return SimProcess(proc, urls, creds, log_path)
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:] if log_path else ""
            raise SimStartError(f"mmbot sim exited {proc.returncode}: {tail}".strip())
        time.sleep(0.05)
    stop_process(proc)
    raise SimStartError(f"mmbot sim did not write {ready} within {timeout_s:g} s")


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """Terminate, then kill if it does not exit in ``timeout_s``; always reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout_s)


def limit_order(
    price: str = "50000",
    *,
    side: str = "Buy",
    qty: str = "0.001",
    symbol: str = "BTCUSDT",
    category: str = "linear",
    time_in_force: str = "PostOnly",
    **extra: Any,
) -> dict[str, Any]:
    """A ``/v5/order/create`` body for a limit order (extra fields as named on the wire)."""
    return {
        "category": category,
        "symbol": symbol,
        "side": side,
        "orderType": "Limit",
        "qty": qty,
        "price": price,
        "timeInForce": time_in_force,
        **extra,
    }
