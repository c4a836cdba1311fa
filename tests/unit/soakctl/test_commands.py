"""The one command resolver shared by run, verify and after-checks (soakctl.commands)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from soakctl.commands import find_program, resolve_command, scripts_dir

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths and modes")


def _exe(path: Path) -> Path:
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_bare_names_use_the_env_path_then_the_interpreters_scripts(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path)}  # a PATH without the venv, as an unactivated venv has
    assert resolve_command(["soakctl", "--version"], env) == [
        str(scripts_dir() / "soakctl"), "--version"]
    assert find_program("soakctl", env) == str(scripts_dir() / "soakctl")
    tool = _exe(tmp_path / "mytool")
    assert find_program("mytool", env) == str(tool)
    assert resolve_command(["mytool", "-x"], env) == ["mytool", "-x"]  # PATH finds it at spawn
    assert find_program("mytool", {"PATH": "/nonexistent"}) is None


def test_paths_are_relative_to_the_commands_cwd_and_placeholders_wait(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    tool = _exe(tmp_path / "bin" / "run.sh")
    assert find_program("bin/run.sh", {}, tmp_path) == str(tool)
    assert find_program("bin/missing.sh", {}, tmp_path) is None
    (tmp_path / "bin" / "plain.txt").write_text("not executable")
    assert find_program("bin/plain.txt", {}, tmp_path) is None
    assert find_program("{run_dir}/tool", {}, tmp_path) == "{run_dir}/tool"
    assert resolve_command(["/bin/echo", "x"], {}) == ["/bin/echo", "x"]
    assert resolve_command(["no-such-program-xyz"], {"PATH": ""}) == ["no-such-program-xyz"]
