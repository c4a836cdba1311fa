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

from bot.bybit_v5.signing import rest_headers
from bot.sim import harness
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
            headers |= rest_headers(key, secret, int(time.time() * 1000), 5000, raw)
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
    sim = harness.start_sim(workdir, mmbot=script("mmbot"), timeout_s=READY_TIMEOUT_S)
    urls = sim.urls
    return sim.proc, Sim(
        urls["rest_url"], urls["ws_public_url"], urls["ws_private_url"], sim.credentials_dir
    )


stop = harness.stop_process


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    proc, info = start_sim(tmp_path_factory.mktemp("sim"))
    try:
        yield info
    finally:
        stop(proc)
