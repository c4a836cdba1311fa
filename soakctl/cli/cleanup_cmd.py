"""``soakctl cleanup --runs-dir DIR``: end processes earlier runs left behind (by identity).

Prints one line per process ended (or that would be, with ``--dry-run``) and a summary; exit 0
when nothing recorded is left alive afterwards, 1 if a process survived the kill, 2 when DIR is
not a directory. The matching rules are in :mod:`soakctl.cleanup`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from soakctl.cli.ui import emit_json


def cleanup(
    runs_dir: Annotated[Path, typer.Option(
        "--runs-dir", help="Directory holding run directories (as given to `run --out`).")],
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="List what would be ended; end nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """End processes that earlier runs under DIR left running: soakctl itself, services and
    targets, with their descendants.

    A process is ended only if its pid AND its create time match what the run recorded
    (run.json `soakctl_process`, `start` events in events.jsonl), so a reused pid is never
    touched, and process names are never used. Credentials directories a killed run could
    not remove are deleted too. Run it first in a self-hosted runner job.
    Example: soakctl cleanup --runs-dir D:\\soak-runs
    """
    from soakctl.cleanup import cleanup as do_cleanup

    result = do_cleanup(runs_dir, dry_run=dry_run)
    if as_json:
        emit_json(result.as_dict() | {"dry_run": dry_run})
    else:
        verb = "would end" if dry_run else "ended"
        for item in result.killed:
            typer.echo(f"{verb} pid {item['pid']} ({item['name']}, {item['run_dir']})")
        for path in result.secrets_removed:
            typer.echo(f"removed credentials left by a dead run: {path}")
        typer.echo(f"{result.runs} run dirs, {result.recorded} recorded processes, "
                   f"{len(result.killed)} {verb}, {len(result.survivors)} survived")
    if result.survivors:
        raise typer.Exit(1)
