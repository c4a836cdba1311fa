"""Permanent configuration errors end ``mmbot run`` quickly as bad input; transient ones don't.

Against a real ``mmbot sim``: a symbol the exchange does not list, and credentials it refuses
(after one retry), each exit 2 within 10 s with one plain ``mmbot: ...`` line naming the
problem and no traceback. A closed port (connection refused) is transient: the bot keeps
retrying and still stops cleanly on SIGTERM.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from mmbot_procs import FAST_CONFIG, Sim, free_port

pytestmark = pytest.mark.slow

PERMANENT_BOUND_S = 10.0


def _env(sim: Sim, clean_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = dict(clean_env)
    env.update(
        MMBOT_REST_URL=sim.rest_url,
        MMBOT_WS_PUBLIC_URL=str(sim.urls["ws_public_url"]),
        MMBOT_WS_PRIVATE_URL=str(sim.urls["ws_private_url"]),
        MMBOT_CREDENTIALS_DIR=str(sim.creds_dir),
        MMBOT_METRICS_PORT=str(free_port()),
    )
    env.update(extra)
    return env


def _run(mmbot: str, tmp_path: Path, env: dict[str, str]) -> tuple[int, str, float]:
    config = tmp_path / "bot.yaml"
    config.write_text(yaml.safe_dump(FAST_CONFIG))
    started = time.monotonic()
    done = subprocess.run(
        [mmbot, "run", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr, time.monotonic() - started


def _last_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "no output"
    assert "Traceback" not in stderr
    return lines[-1]


def test_unlisted_symbol_exits_2_naming_it(
    sim_factory, mmbot_bin: str, clean_env: dict[str, str], tmp_path: Path
) -> None:
    sim = sim_factory()
    env = _env(sim, clean_env, MMBOT_SYMBOL="NOPEUSDT")
    code, stderr, took_s = _run(mmbot_bin, tmp_path, env)
    assert code == 2, stderr[-2000:]
    assert took_s < PERMANENT_BOUND_S
    line = _last_line(stderr)
    assert line.startswith("mmbot: ") and "NOPEUSDT" in line and "linear" in line, line
    assert "retrying" not in stderr


def test_refused_credentials_exit_2_after_one_retry(
    sim_factory, mmbot_bin: str, clean_env: dict[str, str], tmp_path: Path
) -> None:
    sim = sim_factory()
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "bybit_api_key").write_text("notakey12345\n")
    (wrong / "bybit_api_secret").write_text("not-the-secret-either\n")
    env = _env(sim, clean_env, MMBOT_CREDENTIALS_DIR=str(wrong))
    code, stderr, took_s = _run(mmbot_bin, tmp_path, env)
    assert code == 2, stderr[-2000:]
    assert took_s < PERMANENT_BOUND_S
    assert stderr.count("retrying once") == 1
    line = _last_line(stderr)
    assert line.startswith("mmbot: credentials refused") and "10003" in line, line
    assert "not-the-secret-either" not in stderr


@pytest.mark.linux_only("stops the bot with SIGTERM")
def test_connection_refused_keeps_retrying(
    mmbot_bin: str, clean_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()  # bound and released: nothing listens there
    env = dict(clean_env)
    env.update(  # no credentials configured: the simulator's dev pair (loopback only)
        MMBOT_REST_URL=f"http://127.0.0.1:{port}",
        MMBOT_WS_PUBLIC_URL=f"ws://127.0.0.1:{port}/v5/public/linear",
        MMBOT_WS_PRIVATE_URL=f"ws://127.0.0.1:{port}/v5/private",
        MMBOT_METRICS_PORT=str(free_port()),
    )
    env.pop("MMBOT_CREDENTIALS_DIR", None)
    config = tmp_path / "bot.yaml"
    config.write_text(yaml.safe_dump(FAST_CONFIG))
    log = tmp_path / "bot.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [mmbot_bin, "run", "--config", str(config)], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 20
        while log.read_text().count("not reachable yet") < 3 and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-2000:]
            time.sleep(0.1)
        assert log.read_text().count("not reachable yet") >= 3
        assert proc.poll() is None  # still trying: a closed port may open
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) != 2
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
