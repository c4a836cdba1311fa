"""``soakctl logs lint`` and ``soakctl logs clean``: parse, call :mod:`soakctl.logtools`, render.

``lint`` prints ``file:line:col: message`` lines (the first 100 findings) and a summary, exit 1
on any finding. ``clean`` prints what it removed (or would, with ``--dry-run``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from soakctl.cli.ui import emit_json
from soakctl.errors import UsageError
from soakctl.logtools import (
    DEFAULT_MAX_FINDINGS,
    DEFAULT_MAX_LINE_LENGTH,
    DEFAULT_MIN_AGE_S,
    log_files,
)

if TYPE_CHECKING:
    from soakctl.logtools.lint import LintResult


app = typer.Typer(help="Lint and clean log files.", no_args_is_help=True)


def _lint_json(result: LintResult) -> dict[str, object]:
    return {
        "ok": result.ok,
        "max_line_length": result.max_line_length,
        "total_findings": result.total_findings,
        "truncated": result.total_findings > len(result.findings),
        "files": [
            {
                "path": f.path,
                "size_bytes": f.size_bytes,
                "lines": f.lines,
                "non_ascii_bytes": f.non_ascii_bytes,
                "long_lines": f.long_lines,
            }
            for f in result.files
        ],
        "findings": [
            {
                "path": f.path,
                "line": f.line,
                "col": f.col,
                "kind": f.kind,
                "byte": f.byte,
                "length": f.length,
                "message": f.message(result.max_line_length),
            }
            for f in result.findings
        ],
    }


@app.command("lint")
def lint(
    paths: Annotated[
        list[Path], typer.Argument(help="Log files or directories (searched for *.log*).")
    ],
    max_line_length: Annotated[
        int, typer.Option("--max-line-length", help="Longest allowed line, in bytes.")
    ] = DEFAULT_MAX_LINE_LENGTH,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout, nothing else.")] = False,
) -> None:
    """Report non-ASCII bytes (file:line:col) and over-long lines; exit 1 if there are any."""
    from soakctl.logtools.lint import lint_paths  # numpy: only when linting

    files = log_files(paths)
    result = lint_paths(files, max_line_length=max_line_length, max_findings=DEFAULT_MAX_FINDINGS)
    if json_out:
        emit_json(_lint_json(result))
    else:
        for finding in result.findings:
            typer.echo(
                f"{finding.path}:{finding.line}:{finding.col}: "
                f"{finding.message(result.max_line_length)}"
            )
        non_ascii = sum(f.non_ascii_bytes for f in result.files)
        long_lines = sum(f.long_lines for f in result.files)
        shown = (
            f" (first {len(result.findings)} shown)"
            if result.total_findings > len(result.findings)
            else ""
        )
        typer.echo(
            f"{len(result.files)} file(s): {non_ascii} non-ASCII byte(s), "
            f"{long_lines} line(s) over {result.max_line_length} bytes{shown}"
        )
    if not result.ok:
        raise typer.Exit(1)


@app.command("clean")
def clean(
    directory: Annotated[Path, typer.Argument(help="Directory holding <name>.log.N files.")],
    keep: Annotated[int, typer.Option("--keep", help="Rotated files to keep per log.")],
    min_age_s: Annotated[
        float,
        typer.Option(
            "--min-age", help="Never remove a file modified less than this many seconds ago."
        ),
    ] = DEFAULT_MIN_AGE_S,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be removed.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout, nothing else.")] = False,
) -> None:
    """Keep the N newest rotated files of each log; the active <name>.log is never touched."""
    if keep < 0:
        raise UsageError(f"--keep must be 0 or more, got {keep}")
    if not directory.is_dir():
        raise UsageError(f"{directory}: not a directory")
    from soakctl.logtools.clean import clean_logs  # psutil: only when cleaning

    result = clean_logs(directory, keep, min_age_s=min_age_s, dry_run=dry_run)
    if json_out:
        emit_json(
            {
                "ok": not result.errors,
                "dry_run": dry_run,
                "removed": [{"path": r.path, "size_bytes": r.size_bytes} for r in result.removed],
                "kept": [{"path": k.path, "reason": k.reason} for k in result.kept],
                "freed_bytes": result.freed_bytes,
                "errors": result.errors,
            }
        )
    else:
        verb = "would remove" if dry_run else "removed"
        for removal in result.removed:
            typer.echo(f"{verb} {removal.path} ({removal.size_bytes} bytes)")
        for kept in result.kept:
            if kept.reason != "newest":
                typer.echo(f"kept {kept.path}: {kept.reason}")
        for error in result.errors:
            typer.echo(f"error: {error}", err=True)
        typer.echo(f"{verb} {len(result.removed)} file(s), {result.freed_bytes} bytes")
    if result.errors:
        raise typer.Exit(1)
