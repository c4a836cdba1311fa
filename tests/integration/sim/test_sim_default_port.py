"""Dev defaults meet: `mmbot sim` with no flags listens where `mmbot` looks by default."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
DEFAULT_PORT = 8900


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.mark.skipif(not _port_free(DEFAULT_PORT), reason="port 8900 is in use on this machine")
def test_sim_and_bot_defaults_meet_on_8900(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MMBOT_", "BYBIT_"))}
    sim = subprocess.Popen(
        [str(BIN / "mmbot"), "sim", "--ready-file", str(ready)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert sim.poll() is None, "mmbot sim exited"
            assert time.monotonic() < deadline, "no ready file"
            time.sleep(0.05)
        assert json.loads(ready.read_text())["rest_url"] == f"http://127.0.0.1:{DEFAULT_PORT}"
        orders = subprocess.run(
            [str(BIN / "mmbot"), "orders", "--open", "--fail-if-any"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert orders.returncode == 0, orders.stdout + orders.stderr
        assert "0 open order" in orders.stdout
    finally:
        sim.terminate()
        sim.wait(timeout=30)
