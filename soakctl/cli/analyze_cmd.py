"""``soakctl analyze``: placeholder until the analysis lands (issue 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from soakctl.errors import UsageError


def analyze(
    path: Annotated[Path, typer.Argument(help="A run directory or a resources.jsonl file.")],
) -> None:
    """Turn samples into a verdict, a leak analysis and a report."""
    raise UsageError("analyze is not implemented yet")
