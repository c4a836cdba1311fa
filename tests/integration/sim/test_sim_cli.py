"""``mmbot sim`` as a real subprocess: ready file, credentials from secret files, SIGTERM
exit 0, bad options exit 2 with one line, and no secret in its output."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from simtools import RemoteSim, SimThread, signed
from wsclient import RawWs, run

pytestmark = [pytest.mark.slow, pytest.mark.linux_only("SIGTERM delivery and POSIX file modes")]

SECRET = "cli-test-secret-value-9f8e7d"
KEY = "clitestkey123"


class Ready:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.port = int(data["port"])
        self.rest_url = data["rest_url"]


def wait_ready(proc: subprocess.Popen[str], path: Path, timeout_s: float = 20) -> Ready:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            return Ready(json.loads(path.read_text()))
        if proc.poll() is not None:
            raise AssertionError(f"sim exited early: {proc.communicate()[1]}")
        time.sleep(0.05)
    raise AssertionError("no ready file")


@pytest.fixture
def launched(tmp_path: Path, mmbot_bin: str, clean_env: dict[str, str]) -> Iterator[Any]:
    procs: list[subprocess.Popen[str]] = []

    def launch(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [mmbot_bin, "sim", *args],
            env=env or clean_env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        procs.append(proc)
        return proc

    yield launch
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def test_ready_file_secret_files_and_sigterm(
    tmp_path: Path, launched: Any, clean_env: dict[str, str]
) -> None:
    (tmp_path / "key").write_text(KEY + "\n")
    (tmp_path / "secret").write_text(SECRET + "\n")
    env = {
        **clean_env,
        "BYBIT_API_KEY_FILE": str(tmp_path / "key"),
        "BYBIT_API_SECRET_FILE": str(tmp_path / "secret"),
    }
    for name in ("BYBIT_API_KEY", "BYBIT_API_SECRET", "MMBOT_CREDENTIALS_DIR"):
        env.pop(name, None)
    ready_file = tmp_path / "run" / "sim.json"
    proc = launched(
        "--port",
        "0",
        "--seed",
        "3",
        "--ready-file",
        str(ready_file),
        "--faults",
        "latency_ms=1",
        "--ws-latency-ms",
        "0",
        env=env,
    )
    ready = wait_ready(proc, ready_file)
    assert ready.data["rest_url"] == f"http://127.0.0.1:{ready.port}"
    assert ready.data["ws_public_url"] == f"ws://127.0.0.1:{ready.port}/v5/public/linear"
    assert ready.data["ws_private_url"] == f"ws://127.0.0.1:{ready.port}/v5/private"
    server = RemoteSim(ready.rest_url)
    reply = signed(
        server,
        "GET",
        "/v5/account/wallet-balance",
        {"accountType": "UNIFIED"},
        key=KEY,
        secret=SECRET,
    )
    assert reply.json()["result"]["list"][0]["coin"][0]["walletBalance"] == "100000"
    assert (
        signed(
            server, "GET", "/v5/account/fee-rate", {"category": "linear"}, key=KEY, secret="nope"
        ).json()["retCode"]
        == 10004
    )
    assert requests.get(f"{ready.rest_url}/sim/faults", timeout=5).json()["active"] == {
        "latency_ms": "1"
    }

    async def stop_with_clients_connected() -> int | None:
        public = await RawWs.connect(ready.data["ws_public_url"])
        private = await RawWs.connect(ready.data["ws_private_url"])
        try:
            await public.send({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
            await public.until(lambda f: f.get("type") == "snapshot")
            assert (await private.auth(KEY, SECRET))["success"] is True
            proc.send_signal(signal.SIGTERM)
            while await public.recv(10) is not None:
                pass
            return public.ws.close_code
        finally:
            await public.close()
            await private.close()

    assert run(stop_with_clients_connected()) is not None  # closed by the server
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert SECRET not in out + err and KEY not in out + err
    assert "listening on http://127.0.0.1" in err


def test_credentials_dir_is_created_private(tmp_path: Path, launched: Any) -> None:
    directory = tmp_path / "creds"
    ready_file = tmp_path / "ready.json"
    proc = launched(
        "--port", "0", "--credentials-dir", str(directory), "--ready-file", str(ready_file)
    )
    wait_ready(proc, ready_file)
    for name in ("bybit_api_key", "bybit_api_secret"):
        assert (directory / name).stat().st_mode & 0o777 == 0o600
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert (directory / "bybit_api_secret").read_text().strip() not in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--faults", "bogus=1"], "unknown fault 'bogus'"),
        (["--faults", "http_5xx_rate=7"], "rate must be in [0, 1]"),
        (["--maker-fee", "abc"], "--maker-fee"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    mmbot_bin: str, clean_env: dict[str, str], args: list[str], fragment: str
) -> None:
    done = subprocess.run(
        [mmbot_bin, "sim", *args], env=clean_env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("mmbot sim:")]
    assert len(lines) == 1 and fragment in lines[0]
    assert "Traceback" not in done.stderr


def test_port_in_use_exits_2(
    tmp_path: Path, mmbot_bin: str, clean_env: dict[str, str], sim: SimThread
) -> None:
    done = subprocess.run(
        [mmbot_bin, "sim", "--port", str(sim.port)],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "cannot serve on 127.0.0.1" in done.stderr
    assert "Traceback" not in done.stderr
