"""The ``soakctl`` entry point: the Typer app, command registration and the error edge.

Every ``SoakError`` is caught here once and printed as one line on stderr with its exit code
(2 for usage errors and bad input). Anything else is a bug: one line plus a hint, and the
traceback only with ``SOAKCTL_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from soakctl import __version__
from soakctl.cli import (
    analyze_cmd,
    audit_cmd,
    logs_cmd,
    monitor_cmd,
    plan_cmd,
    run_cmd,
    verify_cmd,
)
from soakctl.errors import SoakError

app = typer.Typer(
    name="soakctl",
    help=(
        "Will this survive 24 hours?\n\n"
        "soakctl checks readiness (verify), runs a target under a supervisor for hours (run), "
        "samples its whole process tree to JSONL, rotates its logs, reaps zombies, and turns "
        "the samples into a verdict with a leak-slope analysis and a report (analyze).\n\n"
        "Exit codes: 0 pass, 1 verdict or check failed, 2 usage error or bad input."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"soakctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Will this survive 24 hours?"""


app.command("run", context_settings={"allow_interspersed_args": False})(run_cmd.run)
app.command("monitor")(monitor_cmd.monitor)
app.command("analyze")(analyze_cmd.analyze)
app.command("plan")(plan_cmd.plan)
app.command("verify")(verify_cmd.verify)
app.command("audit")(audit_cmd.audit)
app.add_typer(logs_cmd.app, name="logs")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; the only place soakctl errors become exit codes (typer exits 2 on bad flags)."""
    try:
        app(args=argv, prog_name="soakctl")
    except SoakError as exc:
        sys.stderr.write(f"soakctl: error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("soakctl: interrupted\n")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("SOAKCTL_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(
            f"soakctl: internal error: {type(exc).__name__}: {exc} "
            "(set SOAKCTL_DEBUG=1 for the traceback)\n"
        )
        sys.exit(3)
