"""A real ``mmbot sim`` subprocess for the exchange checks, and signed REST helpers."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.bybit_v5.signing import sign_rest
from tests.conftest import script

READY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Sim:
    rest_url: str
    ws_public_url: str
    ws_private_url: str
    credentials_dir: Path

    def credentials(self) -> tuple[str, str]:
        return tuple(  # type: ignore[return-value]
            (self.credentials_dir / f"bybit_api_{n}").read_text().strip() for n in ("key", "secret")
        )

    def post(self, path: str, body: dict[str, Any], signed: bool = True) -> dict[str, Any]:
        raw = json.dumps(body)
        headers = {"Content-Type": "application/json"}
        if signed:
            key, secret = self.credentials()
            ts = str(int(time.time() * 1000))
            headers |= {
                "X-BAPI-API-KEY": key,
                "X-BAPI-TIMESTAMP": ts,
                "X-BAPI-RECV-WINDOW": "5000",
                "X-BAPI-SIGN": sign_rest(secret, ts, key, 5000, raw),
            }
        request = urllib.request.Request(
            f"{self.rest_url}{path}", data=raw.encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def get(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.rest_url}{path}", timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def set_faults(self, faults: dict[str, Any]) -> None:
        self.post("/sim/faults", faults, signed=False)


def start_sim(workdir: Path) -> tuple[subprocess.Popen[bytes], Sim]:
    ready = workdir / "sim.json"
    creds = workdir / "creds"
    log = (workdir / "sim.log").open("wb")
    proc = subprocess.Popen(
        [
            script("mmbot"),
            "sim",
            "--port",
            "0",
            "--ready-file",
            str(ready),
            "--credentials-dir",
            str(creds),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    log.close()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"mmbot sim exited {proc.returncode}: {(workdir / 'sim.log').read_text()}"
            )
        try:
            info = json.loads(ready.read_text())
            break
        except (OSError, ValueError):
            time.sleep(0.05)
    else:
        stop(proc)
        raise RuntimeError("mmbot sim did not write its ready file in time")
    return proc, Sim(info["rest_url"], info["ws_public_url"], info["ws_private_url"], creds)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    proc, info = start_sim(tmp_path_factory.mktemp("sim"))
    try:
        yield info
    finally:
        stop(proc)
