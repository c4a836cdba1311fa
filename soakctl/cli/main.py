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
    cleanup_cmd,
    compare_cmd,
    logs_cmd,
    monitor_cmd,
    plan_cmd,
    run_cmd,
    verify_cmd,
)
from soakctl.cli.logsetup import configure_logging
from soakctl.errors import SoakError, describe_os_error

# Click's exception classes, found through a public Typer name: Typer >= 0.2x vendors Click
# (``typer._click``) while older releases depend on it, so neither import path is stable.
_CLICK_ERRORS = {c.__name__: c for c in typer.BadParameter.__mro__}
ClickUsageError: type[Exception] = _CLICK_ERRORS["UsageError"]
ClickException: type[Exception] = _CLICK_ERRORS["ClickException"]

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
app.command("compare")(compare_cmd.compare)
app.command("cleanup")(cleanup_cmd.cleanup)
app.add_typer(logs_cmd.app, name="logs")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; the only place soakctl errors become exit codes (typer exits 2 on bad flags)."""
    configure_logging()
    try:
        code = app(args=argv, prog_name="soakctl", standalone_mode=False)
    except ClickException as exc:  # a bad flag or argument value: one line, like our errors
        ctx = getattr(exc, "ctx", None)
        where = ""
        if isinstance(exc, ClickUsageError) and ctx is not None:
            where = f" (see: {ctx.command_path} --help)"
        message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
        sys.stderr.write(f"soakctl: error: {message}{where}\n")
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except typer.Abort:
        sys.stderr.write("soakctl: interrupted\n")
        sys.exit(130)
    except SoakError as exc:
        sys.stderr.write(f"soakctl: error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("soakctl: interrupted\n")
        sys.exit(130)
    except OSError as exc:  # a bad path that no command wrapped: still bad input, one line
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"soakctl: error: {where}{describe_os_error(exc)}\n")
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("SOAKCTL_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(
            f"soakctl: internal error: {type(exc).__name__}: {exc} "
            "(set SOAKCTL_DEBUG=1 for the traceback)\n"
        )
        sys.exit(3)
    if isinstance(code, int) and code:
        sys.exit(code)
