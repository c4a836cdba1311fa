"""{secrets_dir}: a private directory outside the run dir, removed (with any in-run secrets/)
when the run ends."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from soakctl.errors import ProfileError
from soakctl.placeholders import expand, expand_all
from soakctl.runsecrets import RunSecrets, prefix_for, remove_orphaned


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
    path = secrets.path
    assert path is not None and path.parent == tmp_path / "tmp"
    assert run_dir not in path.parents
    if sys.platform != "win32":
        assert path.stat().st_mode & 0o077 == 0
    (path / "bybit_api_key").write_text("k\n")
    assert secrets.remove(run_dir) == []
    assert not path.exists() and not (run_dir / "secrets").exists()
    assert secrets.path is None
    assert run_dir.is_dir()  # only the credentials go
    assert secrets.remove(run_dir) == []  # idempotent


def test_lazy_secrets_are_made_on_first_use_named_by_pid_and_orphans_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    lazy = RunSecrets.lazy()
    assert not lazy.created and list(tmp_path.iterdir()) == []
    assert lazy.remove() == []  # never used: nothing to remove
    made = Path(expand("{secrets_dir}", "/r", {}, {}, lazy.ensure))
    assert lazy.created and made.parent == tmp_path
    assert made.name.startswith(prefix_for(os.getpid()))
    assert lazy.ensure() == str(made)  # one directory per run
    other = tmp_path / f"{prefix_for(4242)}abc"
    other.mkdir()
    (other / "bybit_api_key").write_text("k")
    assert remove_orphaned(4242) == [other] and not other.exists()
    assert made.exists()  # another pid's directory is not touched
    lazy.remove()
    assert not made.exists()
