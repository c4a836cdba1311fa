"""Helpers for check tests: a context from a profile written to a temp dir."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from checks.context import CheckContext, build_context

MakeContext = Callable[..., CheckContext]


@pytest.fixture
def make_ctx(tmp_path: Path) -> MakeContext:
    """``make_ctx(profile_dict, env=..., **kwargs)``: a real context, not using os.environ."""

    def make(profile: dict[str, Any] | None = None, **kwargs: Any) -> CheckContext:
        path = tmp_path / "profile.yaml"
        path.write_text(yaml.safe_dump(profile or {"target": {"command": ["sleep", "1"]}}))
        kwargs.setdefault("env", {"PATH": "/usr/bin:/bin"})
        kwargs.setdefault("cwd", tmp_path)
        kwargs.setdefault("secrets_dir", tmp_path / "no-run-secrets")
        return build_context(str(path), **kwargs)

    return make
