"""``mmbot sim``: placeholder until the simulator lands (issue 4)."""

from __future__ import annotations

import typer


def sim() -> None:
    """Run the local Bybit v5 exchange simulator."""
    typer.echo("mmbot sim is not implemented yet", err=True)
    raise typer.Exit(2)
