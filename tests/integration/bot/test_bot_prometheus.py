"""A real Prometheus server (Debian `prometheus`) scrapes the bot: the exposition is valid for
it and the seed's metric names arrive with their labels."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from mmbot_procs import free_port, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("prometheus") is None,
        reason="Debian prometheus not installed (.ci/run installs it)",
    ),
]


def _query(port: int, expr: str) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = json.loads(resp.read())
    except OSError:
        return []
    return list(body.get("data", {}).get("result", []))


def test_prometheus_scrapes_the_bot(sim_factory, bot_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sim = sim_factory()
    bot = bot_factory(sim)
    target = bot.metrics_url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: mmbot
    static_configs: [{{targets: ["{target}"]}}]
""")
    port = free_port()
    server = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        up = wait_for(lambda: _query(port, 'up{job="mmbot"} == 1'), 60, "Prometheus scraping")
        assert up[0]["metric"]["instance"] == target
        series = wait_for(
            lambda: _query(port, "ws_reconnect_attempts_total"),
            30,
            "the seed's reconnect counter in Prometheus",
        )
        labels = {(s["metric"].get("exchange"), s["metric"].get("ws_type")) for s in series}
        assert {ws_type for _, ws_type in labels} >= {"public", "private"}
        assert all(exchange for exchange, _ in labels)
        for name in (
            "http_pool_connections_limit",
            "ws_max_reconnect_reached_total",
            "mmbot_open_orders",
        ):
            assert wait_for(lambda n=name: _query(port, n), 30, name)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
