"""``soakctl verify`` and ``soakctl audit`` as users run them: a real sim and a real plugin."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.checks.conftest import Sim

pytestmark = pytest.mark.slow

PLUGIN_SRC = Path(__file__).resolve().parents[2] / "plugins" / "soakctl-demo-check"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pip_audit"
BUILTIN = [
    "python",
    "profile",
    "secrets",
    "disk",
    "artifacts-dir",
    "target-command",
    "ports",
    "exchange-rest",
    "clock-skew",
    "exchange-ws",
    "account",
    "dependency-audit",
    "log-lint",
    "redaction",
]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_profile(tmp_path: Path) -> Path:
    path = tmp_path / "bot.yaml"
    path.write_text(
        "name: bot-external\n"
        "duration: 10m\n"
        "target: {command: [mmbot, run], env: {MMBOT_METRICS_PORT: '0'}}\n"
        "logs: {max_bytes: 1MB, keep: 2}\n"
        "disk: {min_free: 10MB}\n"
    )
    return path


@pytest.fixture
def env(clean_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    # Console scripts (mmbot) on PATH as in an activated venv; audit service unreachable fast.
    clean_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{clean_env.get('PATH', '')}"
    clean_env["HTTPS_PROXY"] = f"http://127.0.0.1:{closed_port()}"
    for var in (
        "MMBOT_REST_URL",
        "MMBOT_WS_PUBLIC_URL",
        "MMBOT_WS_PRIVATE_URL",
        "BYBIT_API_KEY",
        "BYBIT_API_SECRET",
        "NO_PROXY",
        "no_proxy",
    ):
        clean_env.pop(var, None)
    return clean_env


def verify(
    soakctl: str, args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [soakctl, "verify", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_verify_with_sim_up_passes(
    soakctl_bin: str, env: dict[str, str], tmp_path: Path, sim: Sim
) -> None:
    env["MMBOT_CREDENTIALS_DIR"] = str(sim.credentials_dir)
    env["MMBOT_REST_URL"] = sim.rest_url
    proc = verify(soakctl_bin, ["--profile", str(bot_profile(tmp_path))], env, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for name in ("exchange-rest", "clock-skew", "exchange-ws", "account", "secrets"):
        assert any(line.split()[:2] == ["PASS", name] for line in lines), proc.stdout
    assert any(line.split()[:2] == ["WARN", "dependency-audit"] for line in lines)
    assert lines[-1].startswith("verify: ") and lines[-1].endswith(": OK")


def test_verify_with_sim_down_fails_fast_and_reports_everything(
    soakctl_bin: str, env: dict[str, str], tmp_path: Path
) -> None:
    started = time.monotonic()
    dead = f"http://127.0.0.1:{closed_port()}"
    proc = verify(
        soakctl_bin,
        ["--profile", str(bot_profile(tmp_path)), "--exchange-url", dead, "--json"],
        env,
        tmp_path,
    )
    wall_s = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["ok"] is False
    results = {c["name"]: c for c in payload["checks"]}
    assert [c["name"] for c in payload["checks"]][: len(BUILTIN)] == BUILTIN
    for name in ("exchange-rest", "clock-skew", "exchange-ws"):
        assert results[name]["status"] == "fail"
        assert "connection refused" in results[name]["message"]
        assert results[name]["duration_s"] < 1.0  # timeout is 5 s or more
        assert results[name]["fix"]
    assert results["python"]["status"] == "pass"
    assert results["dependency-audit"]["status"] == "warn"
    assert wall_s < 30


def test_verify_only_skip_and_unknown_name(
    soakctl_bin: str, env: dict[str, str], tmp_path: Path
) -> None:
    profile = str(bot_profile(tmp_path))
    proc = verify(
        soakctl_bin, ["-p", profile, "--only", "disk", "--only", "python", "--json"], env, tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert [c["name"] for c in json.loads(proc.stdout)["checks"]] == ["python", "disk"]
    proc = verify(soakctl_bin, ["-p", profile, "--skip", "exchange-rest", "--json"], env, tmp_path)
    assert "exchange-rest" not in [c["name"] for c in json.loads(proc.stdout)["checks"]]
    proc = verify(soakctl_bin, ["-p", profile, "--only", "dsik"], env, tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"soakctl: error: unknown check 'dsik' (known: {', '.join(BUILTIN)})"
    ]


def test_verify_reports_a_bad_profile_as_a_failed_check(
    soakctl_bin: str, env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("target: {command: [sleep, '1'], restart: sometimes}\n")
    proc = verify(soakctl_bin, ["-p", str(bad), "--only", "profile"], env, tmp_path)
    assert proc.returncode == 1
    assert f"FAIL  profile  {bad}: target.restart:" in proc.stdout


@pytest.fixture
def demo_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example plugin built from its pyproject (hatchling) and pip-installed into a dir.

    Installed with ``--target`` into a directory put on the venv's ``sys.path`` (PYTHONPATH)
    rather than into site-packages, so parallel test runs sharing the venv never see it.
    """
    work = tmp_path_factory.mktemp("plugin")
    source = work / "src"
    shutil.copytree(PLUGIN_SRC, source)
    site = work / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    yield site


def test_plugin_from_entry_point_runs(
    soakctl_bin: str, env: dict[str, str], tmp_path: Path, demo_plugin: Path
) -> None:
    assert list(demo_plugin.glob("soakctl_demo_check-0.1.0.dist-info/entry_points.txt"))
    env["PYTHONPATH"] = str(demo_plugin)
    profile = str(bot_profile(tmp_path))
    proc = verify(soakctl_bin, ["-p", profile, "--only", "demo-plugin", "--json"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)["checks"]
    assert result["name"] == "demo-plugin"
    assert result["message"] == f"hello from a plugin (profile {profile})"
    env["SOAKCTL_DEMO_FAIL"] = "1"
    proc = verify(soakctl_bin, ["-p", profile, "--only", "demo-plugin"], env, tmp_path)
    assert proc.returncode == 1
    assert "FAIL  demo-plugin  SOAKCTL_DEMO_FAIL is set" in proc.stdout


def test_audit_cli_unreachable_fixtures_and_bad_ignore_file(
    soakctl_bin: str, env: dict[str, str], tmp_path: Path
) -> None:
    def audit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [soakctl_bin, "audit", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    proc = audit("--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["status"] == "warn"
    assert "pip-audit" in [p["package"] for p in payload["not_audited"]]

    proc = audit("--input", str(FIXTURES / "fixable.json"))
    assert proc.returncode == 1
    assert "BLOCK    jinja2 3.1.2  GHSA-h5c8-rqwp-cp95 (CVE-2024-22195): fixed in 3.1.3" in (
        proc.stdout
    )
    (tmp_path / "audit-ignore.yaml").write_text(
        "ignore: [{id: GHSA-h5c8-rqwp-cp95, reason: not reachable from our code,"
        " expires: 2099-01-01}]\n"
    )
    proc = audit("--input", str(FIXTURES / "fixable.json"))  # ./audit-ignore.yaml by default
    assert proc.returncode == 0, proc.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("ignore: [{id: X}]\n")
    proc = audit("--input", str(FIXTURES / "fixable.json"), "--ignore-file", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"soakctl: error: {bad}: ignore.0.reason: required key is missing (and 1 more problem)"
    ]
