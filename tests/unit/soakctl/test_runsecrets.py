"""{secrets_dir}: a private directory outside the run dir, removed (with any in-run secrets/)
when the run ends."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from soakctl.errors import ProfileError
from soakctl.placeholders import expand, expand_all
from soakctl.runsecrets import RunSecrets


def test_secrets_dir_placeholder_expands_only_during_a_run(tmp_path: Path) -> None:
    assert expand("{secrets_dir}/k {run_dir}", "/r", {}, {}, "/s") == "/s/k /r"
    assert expand_all(["--dir", "{secrets_dir}"], "/r", {}, {}, "/s") == ["--dir", "/s"]
    with pytest.raises(ProfileError, match="secrets_dir"):
        expand("{secrets_dir}", "/r", {}, {})


def test_run_secrets_are_private_outside_the_run_dir_and_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    run_dir = tmp_path / "run"
    (run_dir / "secrets").mkdir(parents=True)
    (run_dir / "secrets" / "bybit_api_secret").write_text("s3cr3t\n")
    secrets = RunSecrets.create()
    assert secrets.path.parent == tmp_path / "tmp"
    assert run_dir not in secrets.path.parents
    if sys.platform != "win32":
        assert secrets.path.stat().st_mode & 0o077 == 0
    (secrets.path / "bybit_api_key").write_text("k\n")
    assert secrets.remove(run_dir) == []
    assert not secrets.path.exists() and not (run_dir / "secrets").exists()
    assert run_dir.is_dir()  # only the credentials go
    assert secrets.remove(run_dir) == []  # idempotent
