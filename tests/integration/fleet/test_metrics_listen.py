"""``soakctl run --metrics-listen``: a real Prometheus server scrapes the run while it lasts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.fleet.promserver import (
    free_port,
    needs_prometheus,
    prometheus,
    query,
    stop,
    wait_for,
)

pytestmark = [pytest.mark.slow, needs_prometheus]
NAMES = ("soakctl_rss_bytes", "soakctl_cpu_percent", "soakctl_num_fds", "soakctl_num_threads",
         "soakctl_num_procs", "soakctl_zombies", "soakctl_restarts_total")


def test_prometheus_scrapes_a_run(tmp_path: Path, soakctl_bin: str,
                                  clean_env: dict[str, str]) -> None:
    port = free_port()
    profile = tmp_path / "fleet-demo.yaml"
    profile.write_text(f"""
name: fleet-demo
duration: 120s
interval: 1s
metrics_listen: "127.0.0.1:{port}"
target:
  command: [{sys.executable}, -c, "import time; time.sleep(600)"]
""")
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen([soakctl_bin, "run", "--profile", str(profile), "--out",
                            str(tmp_path / "runs"), "--no-analyze"], env=clean_env,
                           stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        with prometheus(tmp_path, {"soak": f"127.0.0.1:{port}"}) as url:
            series = wait_for(lambda: query(url, 'soakctl_rss_bytes{job="soak"} > 0'), 90,
                              "soakctl_rss_bytes in Prometheus")
            labels = series[0]["metric"]
            run_id = (tmp_path / "runs").iterdir().__next__().name
            assert labels["run_id"] == run_id
            assert labels["profile"] == "fleet-demo"
            assert labels["name"] == "target"
            for name in NAMES:
                got = wait_for(lambda n=name: query(url, f'{n}{{job="soak"}}'), 30, name)
                assert got[0]["metric"]["run_id"] == run_id, name
            procs = query(url, 'soakctl_num_procs{job="soak"}')
            assert procs and procs[0]["value"][1] == "1"
    finally:
        stop(run)  # SIGTERM: soakctl stops the target gracefully and exits
        log.close()
    assert run.returncode in (0, 1), (tmp_path / "run.log").read_text()
