"""Checks from other distributions, through the ``soakctl.checks`` entry-point group.

A plugin distribution declares, in its ``pyproject.toml``::

    [project.entry-points."soakctl.checks"]
    my-check = "my_package.checks:MyCheck"

The object may be a :class:`~checks.base.Check` subclass (instantiated without arguments), a
``Check`` instance, or a callable returning one or a list of them. A plugin that fails to load,
returns something else, or reuses a taken name does not stop ``verify``: it becomes a ``fail``
result named ``plugin:<entry point>`` saying why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from checks.base import Check, CheckResult, Status

logger = logging.getLogger(__name__)

GROUP = "soakctl.checks"


def _broken(entry: EntryPoint, reason: str) -> CheckResult:
    return CheckResult(
        name=f"plugin:{entry.name}",
        status=Status.FAIL,
        message=f"plugin {entry.value!r} ({entry.dist.name if entry.dist else '?'}): {reason}",
        duration_s=0.0,
        fix="fix or uninstall the plugin distribution",
    )


def _instances(loaded: object) -> list[Check]:
    if isinstance(loaded, type) and issubclass(loaded, Check):
        return [loaded()]
    if isinstance(loaded, Check):
        return [loaded]
    if callable(loaded):
        made = loaded()
        items = made if isinstance(made, list | tuple) else [made]
        if all(isinstance(item, Check) for item in items):
            return list(items)
    raise TypeError(f"expected a Check subclass, instance or factory, got {type(loaded).__name__}")


def load_plugins(
    taken: Iterable[str], entries: Iterable[EntryPoint] | None = None
) -> tuple[list[Check], list[CheckResult]]:
    """(plugin checks, failures to report) for every entry point of the group."""
    names = set(taken)
    checks: list[Check] = []
    failures: list[CheckResult] = []
    for entry in entry_points(group=GROUP) if entries is None else entries:
        try:
            found = _instances(entry.load())
        except Exception as exc:  # a broken plugin is reported, never fatal
            logger.debug("plugin %s failed to load", entry.name, exc_info=True)
            failures.append(_broken(entry, f"cannot load: {type(exc).__name__}: {exc}"))
            continue
        for check in found:
            if check.name in names:
                failures.append(_broken(entry, f"check name {check.name!r} is already taken"))
                continue
            names.add(check.name)
            checks.append(check)
    return checks, failures
