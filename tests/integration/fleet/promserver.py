"""Real processes for the fleet tests: Debian's Prometheus server and small exporters."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
needs_prometheus = pytest.mark.skipif(
    shutil.which("prometheus") is None,
    reason="Debian prometheus not installed (.ci/run installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def exporter(tmp: Path, name: str, rate_bytes_per_s: float) -> Iterator[str]:
    """A gauge exporter subprocess; yields its host:port."""
    ready = tmp / f"{name}.port"
    proc = subprocess.Popen([sys.executable, str(HERE / "gauge_exporter.py"), str(ready),
                             str(rate_bytes_per_s)], stdin=subprocess.DEVNULL)
    try:
        wait_for(ready.exists, 30, f"exporter {name}")
        yield f"127.0.0.1:{ready.read_text()}"
    finally:
        stop(proc)


@contextmanager
def prometheus(tmp: Path, jobs: dict[str, str]) -> Iterator[str]:
    """Prometheus scraping each job's target every second; yields its base URL."""
    config = tmp / "prometheus.yml"
    scrapes = "".join(f'  - job_name: {job}\n    static_configs: [{{targets: ["{target}"]}}]\n'
                      for job, target in jobs.items())
    config.write_text("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                      f"scrape_configs:\n{scrapes}")
    port = free_port()
    log = (tmp / "prometheus.log").open("wb")
    proc = subprocess.Popen(["prometheus", f"--config.file={config}",
                             f"--storage.tsdb.path={tmp / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: query(url, "up") is not None, 60, "Prometheus to answer")
        yield url
    finally:
        stop(proc)
        log.close()


def query(url: str, expr: str, **params: str) -> list[dict[str, Any]] | None:
    """An instant (or, with start/end/step, range) query; None when unreachable or refused."""
    path = "/api/v1/query_range" if "step" in params else "/api/v1/query"
    qs = urllib.parse.urlencode({"query": expr, **params})
    try:
        with urllib.request.urlopen(f"{url}{path}?{qs}", timeout=5) as resp:
            body = json.loads(resp.read())
    except OSError:
        return None
    return list(body.get("data", {}).get("result", []))
