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
    path = BIN / name
    return str(path) if path.exists() else name


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
