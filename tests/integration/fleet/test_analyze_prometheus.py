"""``soakctl analyze --prometheus`` against a real Prometheus server (Debian package) scraping
two real exporters every second: one gauge growing 1 MiB/s, one flat."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import orjson
import pytest

from tests.integration.fleet.promserver import (
    exporter,
    free_port,
    needs_prometheus,
    prometheus,
    query,
    wait_for,
)

pytestmark = [pytest.mark.slow, needs_prometheus]
MIB = 1 << 20
POINTS = 45  # scrapes per series before analysing: ~45 s at 1 s


def _analyze(soakctl_bin: str, env: dict[str, str], *args: str
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([soakctl_bin, "analyze", *args], capture_output=True, text=True,
                          env=env, timeout=180, check=False)


def test_growing_fails_flat_passes_errors_and_paging(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    with exporter(tmp_path, "grow", MIB) as grow, exporter(tmp_path, "flat", 0) as flat, \
            prometheus(tmp_path, {"grow": grow, "flat": flat}) as url:
        def enough() -> bool:
            got = query(url, "count_over_time(fleet_test_memory_bytes[10m])")
            return bool(got) and len(got) == 2 and all(
                float(s["value"][1]) >= POINTS for s in got)

        wait_for(enough, 150, f"{POINTS} scrapes of both exporters")
        out = tmp_path / "grow-out"
        proc = _analyze(soakctl_bin, clean_env, "--prometheus", url, "--query",
                        'fleet_test_memory_bytes{job="grow"}', "--since", "10m", "--step", "1s",
                        "--out", str(out), "--json")
        assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr
        doc = orjson.loads(proc.stdout)
        assert doc["verdict"] == "fail"
        [block] = doc["series"]
        assert block["labels"]["job"] == "grow"
        assert block["labels"]["__name__"] == "fleet_test_memory_bytes"
        assert block["leak"]["status"] == "leak"
        # 1 MiB/s is 3600 MiB/h: the slope must say so (a scrape-timing jitter of a few %).
        assert 3000 < block["leak"]["slope_mib_per_hour"] < 4200
        assert doc == orjson.loads((out / "analysis.json").read_bytes())
        html = (out / "report.html").read_text()
        assert "job=&quot;grow&quot;" in html and "<svg" in html

        proc = _analyze(soakctl_bin, clean_env, "--prometheus", url, "--query",
                        'fleet_test_memory_bytes{job="flat"}', "--since", "10m",
                        "--out", str(tmp_path / "flat-out"))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.startswith("verdict: PASS")
        # Criteria apply to every series, as to a run.
        proc = _analyze(soakctl_bin, clean_env, "--prometheus", url, "--query",
                        'fleet_test_memory_bytes{job="flat"}', "--since", "10m", "--json",
                        "--criteria", "rss_bytes.max < 1000", "--out", str(tmp_path / "crit"))
        assert proc.returncode == 1
        [block] = orjson.loads(proc.stdout)["series"]
        crit = next(c for c in block["criteria"] if c["expr"] == "rss_bytes.max < 1000")
        assert crit["status"] == "fail" and crit["value"] >= 200 * MIB

        # Both at once: one block per series, and the combined verdict fails.
        proc = _analyze(soakctl_bin, clean_env, "--prometheus", url, "--query",
                        "fleet_test_memory_bytes", "--since", "10m", "--json",
                        "--out", str(tmp_path / "both"))
        assert proc.returncode == 1
        doc = orjson.loads(proc.stdout)
        verdicts = {s["labels"]["job"]: s["verdict"] for s in doc["series"]}
        assert verdicts == {"grow": "fail", "flat": "pass"}
        assert any('job="grow"' in r for r in doc["reasons"])
        html = (tmp_path / "both" / "report.html").read_text()
        assert "job=&quot;grow&quot;" in html and "job=&quot;flat&quot;" in html

        # A range longer than 11,000 steps: Prometheus refuses it in one request...
        end = time.time()
        start = end - 4 * 3600
        refused = urllib.request.Request(f"{url}/api/v1/query_range?" + urllib.parse.urlencode(
            {"query": "fleet_test_memory_bytes", "start": start, "end": end, "step": 1}))
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(refused, timeout=10)
        assert err.value.code == 400
        assert "11,000" in err.value.read().decode()
        err.value.close()
        # ... and soakctl pages it: same points as a short query, nothing twice.
        proc = _analyze(soakctl_bin, clean_env, "--prometheus", url, "--query",
                        'fleet_test_memory_bytes{job="grow"}', "--since", "4h", "--step", "1s",
                        "--until", f"{end:.3f}", "--json", "--out", str(tmp_path / "paged"))
        assert proc.returncode == 1, proc.stderr
        doc = orjson.loads(proc.stdout)
        assert doc["source"]["pages"] == 2
        assert doc["source"]["step_s"] == 1
        direct = query(url, 'fleet_test_memory_bytes{job="grow"}', start=f"{end - 3000:.3f}",
                       end=f"{end:.3f}", step="1")
        assert direct
        assert doc["series"][0]["samples"] == len(direct[0]["values"])

        # PromQL syntax error: exit 2, the server's message in one line.
        proc = _analyze(soakctl_bin, clean_env, "--prometheus", url, "--query",
                        "rate(fleet_test_memory_bytes[", "--since", "5m")
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1
        assert "bad_data" in proc.stderr and "parse error" in proc.stderr

    # Unreachable server: exit 2, one line.
    proc = _analyze(soakctl_bin, clean_env, "--prometheus", f"http://127.0.0.1:{free_port()}",
                    "--query", "up", "--since", "5m")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "cannot reach" in proc.stderr
