"""The ``mmbot run``/``orders`` edge (exit 2, one line) and the bundled soak profiles."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from soakctl.profile import load_profile

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("profile", ["bot-sim", "smoke", "chaos", "soak-24h"])
def test_bundled_profiles_validate(profile: str) -> None:
    loaded = load_profile(str(REPO / "workflows" / f"{profile}.yaml"))
    assert loaded.target is not None and loaded.target.command[:2] == ["mmbot", "run"]
    assert loaded.services[0].command[:2] == ["mmbot", "sim"]
    assert ["mmbot", "orders", "--open", "--fail-if-any"] in loaded.after
    # The run's credentials live outside the run directory (soakctl.runsecrets).
    assert loaded.target.env["MMBOT_CREDENTIALS_DIR"] == "{secrets_dir}"
    assert "{secrets_dir}" in loaded.services[0].command


def _run(mmbot_bin: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [mmbot_bin, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_no_credentials_for_a_remote_exchange_exits_2(
    mmbot_bin: str, clean_env: dict[str, str]
) -> None:
    env = {k: v for k, v in clean_env.items() if not k.startswith(("BYBIT_", "MMBOT_"))}
    env["MMBOT_REST_URL"] = "https://api-testnet.bybit.com"
    result = _run(mmbot_bin, env, "run")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("mmbot: no API credentials")
    assert "Traceback" not in result.stderr


def test_bad_env_override_exits_2(mmbot_bin: str, clean_env: dict[str, str]) -> None:
    env = dict(clean_env, MMBOT_METRICS_PORT="lots")
    result = _run(mmbot_bin, env, "orders")
    assert result.returncode == 2
    assert "metrics.port (or env MMBOT_METRICS_PORT)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_inject_leak_is_documented_as_test_only(mmbot_bin: str, clean_env: dict[str, str]) -> None:
    result = _run(mmbot_bin, dict(clean_env, COLUMNS="200"), "run", "--help")
    assert "--inject-leak" in result.stdout and "TEST ONLY" in result.stdout
