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
