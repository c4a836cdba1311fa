"""``soakctl run``: soak a target under the supervisor, then judge it.

Parses flags into :class:`soakctl.runner.RunOptions`, picks the live view (rich on a terminal,
plain lines in CI), runs, then analyses the run directory and exits by the verdict.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from soakctl.cli.ui import interactive, warn
from soakctl.errors import SoakError, UsageError
from soakctl.units import parse_duration

if TYPE_CHECKING:
    from soakctl.exporter import MetricsExporter
    from soakctl.observer import RunObserver

RUN_HELP = """Soak a target under the supervisor, sample its whole process tree, then judge it.

Examples:

  soakctl run --minutes 30 -- python -m myservice     # ad-hoc target (named `target`)

  soakctl run --profile smoke                         # workflows/smoke.yaml

  soakctl run --hours 24 --interval 5s --out /data/soak

With no `-- CMD` and no --profile, the bundled default profile `bot-sim` runs.
The first line of output is the run directory; it holds run.json, resources.jsonl,
events.jsonl, logs/ and, after the analysis, analysis.json, report.html, summary.md and
junit.xml. SIGINT/SIGTERM stop the target gracefully and the run is still analysed.
Exit: 0 pass, 1 fail, 2 usage error.
"""


def _duration(value: str | None, flag: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _with_exporter(view: RunObserver, flag: str | None, key: str | None
                   ) -> tuple[RunObserver, MetricsExporter | None]:
    """The view, plus the ``--metrics-listen`` exporter (flag, else profile key) if asked."""
    listen = flag or key
    if not listen:
        return view, None
    from soakctl.exporter import MetricsExporter
    from soakctl.observer import FanOut

    exporter = MetricsExporter(listen, warn=warn,
                               source="--metrics-listen" if flag else "metrics_listen")
    return FanOut(view, exporter), exporter


def run(
    command: Annotated[
        list[str] | None, typer.Argument(help="The target command, after `--`.", show_default=False)
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", help="Profile name (workflows/NAME.yaml) or a path."),
    ] = None,
    duration: Annotated[
        str | None, typer.Option("--duration", "-d", help="How long: 90s, 30m, 2h, 1h30m.")
    ] = None,
    hours: Annotated[float | None, typer.Option("--hours", help="Duration in hours.")] = None,
    minutes: Annotated[float | None, typer.Option("--minutes", help="Duration in minutes.")] = None,
    interval: Annotated[
        str | None, typer.Option("--interval", "-i", help="Sampling interval (default 1s).")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Parent directory of run directories.")
    ] = Path("artifacts/soak"),
    no_analyze: Annotated[
        bool, typer.Option("--no-analyze", help="Skip the analysis at the end.")
    ] = False,
    abort_on_fail: Annotated[
        bool, typer.Option(
            "--abort-on-fail",
            help="Stop early, exit 1, once the verdict can no longer pass: a leak confirmed at "
                 "99 % twice in a row, or a criterion that cannot recover (zombies.max, "
                 "restarts, ...). Checked after 10m, every 2m (profile abort_on_fail: to tune).",
        ),
    ] = False,
    metrics_listen: Annotated[
        str | None,
        typer.Option("--metrics-listen", metavar="HOST:PORT",
                     help="Serve the latest samples for Prometheus at http://HOST:PORT/metrics. "
                          "A bare PORT binds 127.0.0.1; another host only when written out "
                          "(e.g. 0.0.0.0:9108)."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", hidden=True)] = None,
) -> None:
    from soakctl.profile import DEFAULT_PROFILE, Profile, load_profile

    given = [x for x in (duration, hours, minutes) if x is not None]
    if len(given) > 1:
        raise UsageError("give only one of --duration, --hours, --minutes")
    duration_s = _duration(duration, "--duration")
    if hours is not None:
        duration_s = hours * 3600.0
    if minutes is not None:
        duration_s = minutes * 60.0
    if duration_s is not None and duration_s <= 0:
        raise UsageError("the duration must be positive")
    interval_s = _duration(interval, "--interval")
    if interval_s is not None and interval_s < 0.01:
        raise UsageError("--interval: expected at least 10ms")

    if profile is None and command:
        prof, profile_path = Profile(), None
    else:
        name = profile or DEFAULT_PROFILE
        from soakctl.profile import find_profile

        profile_path = str(find_profile(name))
        prof = load_profile(name)

    from soakctl.contracts import ExitReason

    if abort_on_fail and prof.abort_on_fail is None:
        from soakctl.profile import AbortOnFail

        prof = prof.model_copy(update={"abort_on_fail": AbortOnFail()})
    from soakctl.runner import RunOptions, SoakRun, stop_on_signals

    options = RunOptions(
        profile=prof, out_dir=out, profile_path=profile_path, command=command or None,
        duration_s=duration_s, interval_s=interval_s, seed=seed,
    )
    from soakctl.cli.live import PlainObserver, RichObserver
    from soakctl.cli.logsetup import RunLogFile

    observer, exporter = _with_exporter(
        RunLogFile(RichObserver() if interactive() else PlainObserver()), metrics_listen,
        prof.metrics_listen)
    soak = SoakRun(options, observer=observer)
    try:
        with stop_on_signals(soak):
            result = soak.execute()
    finally:
        if exporter is not None:
            exporter.close()

    if result.exit_reason == ExitReason.WRITE_FAILED:
        warn(f"{result.error}: the run stopped early; what it wrote before stays valid")
    if no_analyze:
        failed = result.exit_reason in (ExitReason.TARGET_EXITED, ExitReason.GAVE_UP,
                                        ExitReason.DISK_CRITICAL, ExitReason.WRITE_FAILED,
                                        ExitReason.ABORTED)
        raise typer.Exit(1 if failed else 0)
    try:
        from soakctl.analyze import analyze_path
    except ImportError:  # pragma: no cover - only while the analysis is not installed
        warn("analysis not available; judged by the run's exit reason only")
        raise typer.Exit(1 if result.unexpected_exit else 0) from None
    try:
        analysis = analyze_path(result.run_dir, criteria=list(prof.criteria), warn=warn)
    except SoakError as exc:  # the run happened: a verdict that cannot be written is a fail
        typer.echo("verdict: FAIL")
        if result.exit_reason != ExitReason.WRITE_FAILED:  # already said, in one line
            warn(f"analysis failed: {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"verdict: {analysis.verdict.upper()}")
    for reason in analysis.to_dict().get("reasons", []):
        typer.echo(f"  - {reason}")
    typer.echo(f"report: {result.run_dir / 'report.html'}")
    raise typer.Exit(1 if result.exit_reason == "aborted" else analysis.exit_code)


run.__doc__ = RUN_HELP
