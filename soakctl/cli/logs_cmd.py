"""``soakctl logs``: placeholder until lint and clean land (issue 5)."""

from __future__ import annotations

import typer

from soakctl.errors import UsageError

app = typer.Typer(help="Lint and clean log files.", no_args_is_help=True)


@app.command("lint")
def lint() -> None:
    """Report non-ASCII bytes and over-long lines."""
    raise UsageError("logs lint is not implemented yet")
