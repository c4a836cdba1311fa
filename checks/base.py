"""The check interface: a :class:`Check` ABC, the values it returns, and the checks' base error.

A check is a small class with a ``name``, a one-line ``description``, a ``timeout_s`` and one
method, ``run(ctx) -> Outcome``. Expected problems (a missing secret, a full disk, an exchange
that does not answer) are *outcomes*: ``Outcome.fail("...", fix="...")``. A check that raises
or overruns its timeout is turned into a ``fail`` by the runner (:mod:`checks.runner`), so one
broken check never hides the others. Plugins subclass :class:`Check` too (docs/checks.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from soakctl.errors import SoakError

if TYPE_CHECKING:
    from checks.context import CheckContext


class CheckError(SoakError):
    """A fault in the check machinery itself (a plugin that cannot load, a bad name)."""


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 (a status, not a password)
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What a check found: a status, one line saying what, and how to fix it."""

    status: Status
    message: str
    fix: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def ok(cls, message: str, **details: Any) -> Outcome:
        return cls(status=Status.PASS, message=message, details=details)

    @classmethod
    def warn(cls, message: str, fix: str | None = None, **details: Any) -> Outcome:
        return cls(status=Status.WARN, message=message, fix=fix, details=details)

    @classmethod
    def fail(cls, message: str, fix: str | None = None, **details: Any) -> Outcome:
        return cls(status=Status.FAIL, message=message, fix=fix, details=details)

    @classmethod
    def skip(cls, message: str, **details: Any) -> Outcome:
        return cls(status=Status.SKIP, message=message, details=details)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """An outcome with the check's name and how long it took: one row of ``soakctl verify``."""

    name: str
    status: Status
    message: str
    duration_s: float
    fix: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, outcome: Outcome, duration_s: float) -> CheckResult:
        return cls(
            name=name,
            status=outcome.status,
            message=outcome.message,
            duration_s=duration_s,
            fix=outcome.fix,
            details=outcome.details,
        )

    def to_json(self) -> dict[str, Any]:
        """The docs/cli.md §3 shape; ``fix`` and ``details`` only when there is something to say."""
        data: dict[str, Any] = {
            "name": self.name,
            "status": str(self.status),
            "message": self.message,
            "duration_s": round(self.duration_s, 4),
        }
        if self.fix:
            data["fix"] = self.fix
        if self.details:
            data["details"] = {k: _jsonable(v) for k, v in self.details.items()}
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class Check(ABC):
    """One readiness check. Subclasses set the class attributes and implement :meth:`run`.

    ``run`` is called in a worker thread and may block (sockets, subprocesses) but must bound
    its own waits by ``timeout_s``; the runner reports an overrun as ``fail`` and moves on.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    timeout_s: ClassVar[float] = 10.0

    @abstractmethod
    def run(self, ctx: CheckContext) -> Outcome:
        """Inspect the world through ``ctx`` and say what was found."""
