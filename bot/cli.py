"""The ``mmbot`` entry point: ``mmbot run``, ``mmbot sim`` and ``mmbot orders``.

Each subcommand lives with its subsystem; this module only wires them into one Typer app.
"""

from __future__ import annotations

import sys

import typer

from bot import __version__

app = typer.Typer(
    name="mmbot",
    help="A Bybit v5 maker-rebate bot (run), its local exchange simulator (sim), and order tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mmbot {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """mmbot: Bybit v5 rebate market maker."""


def _register() -> None:
    # Subsystem CLIs register themselves here; imported lazily-light modules only.
    from bot.sim.cli import sim

    app.command("sim")(sim)

    from bot.run_cmd import orders, run

    app.command("run")(run)
    app.command("orders")(orders)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; usage errors exit 2 with one line."""
    try:
        app(args=argv, prog_name="mmbot")
    except KeyboardInterrupt:
        sys.exit(130)
