"""Plugin loading from entry points: good ones load, broken ones become fail results."""

from __future__ import annotations

from importlib.metadata import EntryPoint

from checks.base import Status
from checks.plugins import GROUP, load_plugins
from checks.python_env import PythonCheck


def entry(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=GROUP)


def test_class_entry_point_loads() -> None:
    loaded, broken = load_plugins([], [entry("py", "checks.python_env:PythonCheck")])
    assert [type(c) for c in loaded] == [PythonCheck]
    assert broken == []


def test_broken_plugins_are_reported_not_raised() -> None:
    loaded, broken = load_plugins(
        ["python"],
        [
            entry("taken", "checks.python_env:PythonCheck"),
            entry("missing", "no_such_module_xyz:Thing"),
            entry("wrong", "json:JSONDecodeError"),
        ],
    )
    assert loaded == []
    assert [b.name for b in broken] == ["plugin:taken", "plugin:missing", "plugin:wrong"]
    assert all(b.status is Status.FAIL for b in broken)
    assert "already taken" in broken[0].message
    assert "ModuleNotFoundError" in broken[1].message
