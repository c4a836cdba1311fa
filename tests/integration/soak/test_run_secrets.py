"""Credentials made for a run never reach the run directory (which workflows upload).

A short run of the bundled bot-sim profile with ``TMPDIR`` pointed at a directory of the test:
while it runs, the simulator's generated pair is read from the run's ``{secrets_dir}`` there
(private, 0700/0600); after it ends, that directory is gone, no ``secrets/`` is in the run
directory, and neither value appears in any file of the run directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.soak.conftest import cli_env, soakctl, wait_for

KEY_FILES = ("bybit_api_key", "bybit_api_secret")


def _credentials(tmp: Path) -> dict[str, str] | None:
    for directory in tmp.glob("soakctl-secrets-*"):
        try:
            values = {n: (directory / n).read_text().strip() for n in KEY_FILES}
        except OSError:
            return None
        if all(values.values()):
            if sys.platform != "win32":
                assert directory.stat().st_mode & 0o077 == 0
                assert all((directory / n).stat().st_mode & 0o077 == 0 for n in KEY_FILES)
            return values
    return None


def test_bot_sim_run_leaves_no_credentials_in_the_run_dir(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = cli_env()
    env.update(TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp))
    proc = subprocess.Popen(
        [soakctl(), "run", "--profile", "bot-sim", "--duration", "15s", "--out",
         str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        stdin=subprocess.DEVNULL, cwd=tmp_path)
    try:
        values = wait_for(lambda: _credentials(tmp), timeout=120, what="the run's credentials")
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0, out[-3000:] + err[-3000:]
    run_dir = Path(out.decode().splitlines()[0])
    assert list(tmp.glob("soakctl-secrets-*")) == []  # removed when the run ended
    assert not (run_dir / "secrets").exists()
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert any(p.name == "exchange.log" for p in files) and len(files) >= 5
    for path in files:
        data = path.read_bytes()
        for name, value in values.items():
            assert value.encode() not in data, f"{name} found in {path.relative_to(run_dir)}"
    # Also absent from what soakctl printed (the CI log).
    for name, value in values.items():
        assert value.encode() not in out + err, name


def test_secrets_dir_is_gone_even_when_the_run_fails_to_start(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    profile = tmp_path / "bad.yaml"
    py = json.dumps(sys.executable)  # a YAML double-quoted scalar, Windows backslashes too
    profile.write_text(
        "name: bad\nduration: 5s\nservices:\n"
        f"  - name: broken\n    command: [{py}, -c, 'import sys; sys.exit(3)']\n"
        "    ready: {file: '{secrets_dir}/never', timeout: 20s}\n"
        f"target:\n  command: [{py}, -c, 'pass']\n")
    env = cli_env()
    env.update(TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp))
    proc = subprocess.run([soakctl(), "run", "--profile", str(profile), "--out",
                           str(tmp_path / "out")], capture_output=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 2, proc.stderr.decode()[-2000:]
    assert b"broken" in proc.stderr
    assert list(tmp.glob("soakctl-secrets-*")) == []
