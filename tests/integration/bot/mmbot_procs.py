"""Real processes for the bot's integration tests: an ``mmbot sim`` and ``mmbot run``.

``sim_factory`` starts the simulator with ``--port 0 --ready-file`` and a run credentials
directory, polls for the ready file and always kills it at teardown. ``bot_factory`` writes a
config tuned for fast tests (short pings, silence timeout and backoff), starts the bot on a free
metrics port and gives helpers to read its metrics, health and log, and to stop it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bot.sim import harness

START_TIMEOUT_S = 30.0


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str, step_s: float = 0.1) -> Any:
    """Poll ``predicate`` until truthy; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(step_s)


def http_json(url: str, body: dict[str, Any] | None = None, timeout_s: float = 5.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if data:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.loads(response.read())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


@dataclass
class Sim:
    proc: subprocess.Popen[bytes]
    urls: dict[str, Any]
    creds_dir: Path
    log: Path

    @property
    def rest_url(self) -> str:
        return str(self.urls["rest_url"])

    def stats(self) -> dict[str, Any]:
        return dict(http_json(f"{self.rest_url}/sim/stats"))

    def faults(self, spec: dict[str, Any]) -> None:
        http_json(f"{self.rest_url}/sim/faults", spec)

    def position(self, symbol: str = "BTCUSDT") -> float:
        """The account's signed position on the venue, asked over signed REST."""
        return asyncio.run(_venue_position(self, symbol))

    def secret_values(self) -> list[str]:
        return [
            (self.creds_dir / n).read_text().strip() for n in ("bybit_api_key", "bybit_api_secret")
        ]


@dataclass
class BotProc:
    proc: subprocess.Popen[bytes]
    metrics_url: str
    log: Path
    config: Path
    env: dict[str, str]
    scrapes: list[str] = field(default_factory=list)

    def metrics_text(self) -> str:
        try:
            with urllib.request.urlopen(f"{self.metrics_url}/metrics", timeout=5) as r:
                text = r.read().decode()
        except (urllib.error.URLError, OSError):
            return ""
        self.scrapes.append(text)
        return text

    def metric(self, name: str, **labels: str) -> float | None:
        """Sum of the samples named ``name`` whose labels include ``labels``; None if absent."""
        text = self.metrics_text()
        found = None
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    found = (found or 0.0) + sample.value
        return found

    def health(self) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(f"{self.metrics_url}/healthz", timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except (urllib.error.URLError, OSError):
            return 0, {}

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for raw in self.log.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                lines.append({"msg": raw, "level": "RAW"})
        return lines

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 40.0) -> tuple[int, float]:
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout_s)
        return code, time.monotonic() - started


FAST_CONFIG: dict[str, Any] = {
    "ws": {
        "ping_interval_s": 1.0,
        "silence_timeout_s": 2.5,
        "backoff_base_s": 0.2,
        "backoff_max_s": 2.0,
        "max_attempts": 30,
        "connect_timeout_s": 3.0,
    },
    "http": {"timeout_s": 1.5, "max_retries": 3, "retry_base_s": 0.05},
    "risk": {"book_stale_s": 1.5, "private_quiet_s": 3.0, "max_errors": 1000},
    "reconcile_interval_s": 1.0,
}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for key, value in extra.items():
        if isinstance(value, dict):
            out[key] = {**out.get(key, {}), **value}
        else:
            out[key] = value
    return out


@pytest.fixture
def sim_factory(
    tmp_path: Path, clean_env: dict[str, str], mmbot_bin: str
) -> Iterator[Callable[..., Sim]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(*extra: str, creds_dir: Path | None = None) -> Sim:
        try:
            sim = harness.start_sim(
                tmp_path,
                "--seed",
                "7",
                *extra,
                name=f"sim{len(procs)}",
                credentials_dir=creds_dir,
                env=clean_env,
                mmbot=mmbot_bin,
                timeout_s=START_TIMEOUT_S,
            )
        except harness.SimStartError as exc:
            pytest.fail(str(exc))
        procs.append(sim.proc)
        assert sim.log is not None
        return Sim(sim.proc, dict(sim.urls), sim.credentials_dir, sim.log)

    yield start
    for proc in procs:
        _kill(proc)


async def _venue_position(sim: Sim, symbol: str) -> float:
    from bot.common.secrets import load_credentials_dir
    from bot.config import HttpConfig
    from bot.metrics import BotMetrics
    from bot.venues.bybit.http import BybitRest

    creds = load_credentials_dir(sim.creds_dir)
    async with BybitRest(sim.rest_url, creds, HttpConfig(), BotMetrics()) as rest:
        page = await rest.get("/v5/position/list", {"category": "linear", "symbol": symbol})
    for item in page.get("list") or []:
        size = float(item.get("size") or 0)
        return -size if item.get("side") == "Sell" else size
    return 0.0


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError):
        return None


@pytest.fixture
def bot_factory(
    tmp_path: Path, clean_env: dict[str, str], mmbot_bin: str
) -> Iterator[Callable[..., BotProc]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(sim: Sim, config: dict[str, Any] | None = None, *extra: str) -> BotProc:
        n = len(procs)
        cfg_path = tmp_path / f"bot{n}.yaml"
        cfg_path.write_text(yaml.safe_dump(_merge(FAST_CONFIG, config or {})))
        port = free_port()
        env = dict(clean_env)
        env.update(
            {
                "MMBOT_REST_URL": sim.rest_url,
                "MMBOT_WS_PUBLIC_URL": str(sim.urls["ws_public_url"]),
                "MMBOT_WS_PRIVATE_URL": str(sim.urls["ws_private_url"]),
                "MMBOT_CREDENTIALS_DIR": str(sim.creds_dir),
                "MMBOT_METRICS_PORT": str(port),
            }
        )
        log = tmp_path / f"bot{n}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [mmbot_bin, "run", "--config", str(cfg_path), *extra],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        procs.append(proc)
        bot = BotProc(proc, f"http://127.0.0.1:{port}", log, cfg_path, env)
        wait_for(
            lambda: bot.health()[0] == 200 or proc.poll() is not None,
            START_TIMEOUT_S,
            "bot quoting (/healthz 200)",
        )
        if proc.poll() is not None:
            pytest.fail(f"mmbot run exited {proc.returncode}: {log.read_text()[-3000:]}")
        return bot

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def run_orders(mmbot: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [mmbot, "orders", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
