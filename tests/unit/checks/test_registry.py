"""The registry matches the modules on disk; every built-in builds; --only/--skip names."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import checks
from checks.base import Check
from checks.registry import BUILTIN_CHECKS, builtin_checks, select
from soakctl.errors import UsageError

INFRASTRUCTURE = {
    "base",
    "context",
    "registry",
    "runner",
    "plugins",
    "bybit_http",
    "exchange_base",
    "audit",
}


def test_every_check_module_is_registered() -> None:
    modules = {m.name for m in pkgutil.iter_modules(checks.__path__)} - INFRASTRUCTURE
    registered = {cls.__module__.removeprefix("checks.") for cls in BUILTIN_CHECKS}
    assert modules == registered
    for name in modules:
        module = importlib.import_module(f"checks.{name}")
        defined = [
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, Check) and obj.__module__ == module.__name__
        ]
        assert len(defined) == 1, f"checks.{name} should define exactly one check"


def test_every_builtin_builds_with_a_unique_kebab_name() -> None:
    built = builtin_checks()
    names = [c.name for c in built]
    assert len(names) == len(set(names))
    for check in built:
        assert re.fullmatch(r"[a-z][a-z0-9-]*", check.name)
        assert check.description
        assert 0 < check.timeout_s <= 120


def test_select_only_skip_and_unknown_names() -> None:
    built = builtin_checks()
    assert [c.name for c in select(built, ["disk", "python"], [])] == ["python", "disk"]
    assert "disk" not in [c.name for c in select(built, [], ["disk"])]
    with pytest.raises(UsageError, match=r"unknown check 'dsik' \(known: python, profile"):
        select(built, ["dsik"], [])
