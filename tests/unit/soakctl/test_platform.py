"""Platform edges: spawn flags and stop signals per OS; Windows paths are checked only there."""

from __future__ import annotations

import signal
import sys

import pytest

from soakctl import platform as plat


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX behaviour")
def test_posix_targets_get_their_own_session_and_named_signals() -> None:
    assert plat.popen_kwargs() == {"start_new_session": True}
    assert plat.resolve_signal("SIGTERM") == signal.SIGTERM
    assert plat.resolve_signal("INT") == signal.SIGINT


@pytest.mark.skipif(sys.platform != "win32", reason="Windows only; CI here is Linux")
def test_windows_stops_with_ctrl_break_whatever_the_profile_says() -> None:  # pragma: no cover
    import subprocess

    assert plat.popen_kwargs()["creationflags"] & subprocess.CREATE_NEW_PROCESS_GROUP
    assert plat.resolve_signal("SIGTERM") == signal.CTRL_BREAK_EVENT


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths")
def test_commands_fall_back_to_scripts_beside_the_interpreter(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    env = {"PATH": str(tmp_path)}  # a PATH without the venv
    resolved = plat.resolve_command(["soakctl", "--version"], env)
    assert resolved[0] == str(Path(sys.executable).parent / "soakctl")
    assert resolved[1:] == ["--version"]
    assert plat.resolve_command(["/bin/echo", "x"], env) == ["/bin/echo", "x"]
    assert plat.resolve_command(["no-such-program-xyz"], env) == ["no-such-program-xyz"]
