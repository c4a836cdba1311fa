"""``python``: the interpreter is new enough and every declared dependency is installed.

Reads soakctl's own requirements from its installed metadata (``pyproject.toml``'s
``dependencies``), so the check follows the project instead of a copied list. A missing or
out-of-range dependency is the classic "works on my machine" failure of a fresh CI runner.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import metadata
from typing import ClassVar

from packaging.requirements import InvalidRequirement, Requirement

from checks.base import Check, Outcome
from checks.context import CheckContext

MIN_PYTHON = (3, 11)


def unmet_requirements(requirements: Sequence[str]) -> tuple[int, list[str]]:
    """(requirements that apply here, a human line for each one not satisfied)."""
    problems: list[str] = []
    applicable = 0
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            problems.append(f"{text!r}: not a valid requirement")
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # an optional extra, or another platform's dependency
        applicable += 1
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement.name} is not installed (need {requirement})")
            continue
        if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name} {version} installed, need {requirement}")
    return applicable, problems


class PythonCheck(Check):
    name = "python"
    description = "Python version and installed dependency versions"
    timeout_s = 10.0
    distribution: ClassVar[str] = "soakctl"

    def __init__(
        self,
        requirements: Sequence[str] | None = None,
        min_python: tuple[int, int] = MIN_PYTHON,
    ) -> None:
        self._requirements = requirements
        self._min_python = min_python

    def run(self, ctx: CheckContext) -> Outcome:
        found = ".".join(map(str, sys.version_info[:3]))
        if sys.version_info[:2] < self._min_python:
            need = ".".join(map(str, self._min_python))
            return Outcome.fail(
                f"Python {found} is too old: soakctl needs {need} or newer",
                fix=f"install Python {need}+ and recreate the virtualenv",
            )
        requirements = self._requirements
        if requirements is None:
            try:
                requirements = metadata.requires(self.distribution) or []
            except metadata.PackageNotFoundError:
                return Outcome.fail(
                    f"{self.distribution} is not installed as a distribution",
                    fix="pip install -e . (or the wheel)",
                )
        applicable, problems = unmet_requirements(requirements)
        if problems:
            return Outcome.fail(
                f"{len(problems)} dependency problem(s): {'; '.join(problems[:3])}",
                fix="pip install -e '.[test]' (or reinstall the wheel) in this environment",
                problems=problems,
            )
        return Outcome.ok(
            f"Python {found}, {applicable} dependencies satisfied",
            python=found,
            executable=sys.executable,
        )
