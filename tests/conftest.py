"""Shared fixtures: the venv's interpreter and console scripts, and run-bounded subprocesses."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def script(name: str) -> str:
    """Path of a console script installed beside the test interpreter (soakctl, mmbot)."""
    for path in (BIN / name, BIN / f"{name}.exe"):  # the .exe launcher on Windows
        if path.exists():
            return str(path)
    return name


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On Windows, skip tests marked ``linux_only("why")``, saying why."""
    if sys.platform != "win32":
        return
    for item in items:
        marker = item.get_closest_marker("linux_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"Linux only: {reason}"))


@pytest.fixture
def soakctl_bin() -> str:
    return script("soakctl")


@pytest.fixture
def mmbot_bin() -> str:
    return script("mmbot")


@pytest.fixture
def clean_env() -> dict[str, str]:
    """The environment for CLI subprocesses: no TTY assumptions, CI-style plain output."""
    env = dict(os.environ)
    env["CI"] = "true"
    env.pop("SOAKCTL_DEBUG", None)
    return env
