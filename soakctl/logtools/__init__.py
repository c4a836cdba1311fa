"""Log tools behind ``soakctl logs``: the streaming lint core and the rotated-file cleaner.

Both return data (no printing); ``soakctl/cli/logs_cmd.py`` renders it. ``log_files`` expands
the directories a user names into the log files inside them.
"""

from __future__ import annotations

from pathlib import Path

from soakctl.errors import UsageError
from soakctl.logtools.clean import CleanResult, clean_logs
from soakctl.logtools.lint import (
    DEFAULT_MAX_FINDINGS,
    DEFAULT_MAX_LINE_LENGTH,
    Finding,
    LintResult,
    lint_paths,
)

__all__ = [
    "DEFAULT_MAX_FINDINGS",
    "DEFAULT_MAX_LINE_LENGTH",
    "CleanResult",
    "Finding",
    "LintResult",
    "clean_logs",
    "lint_paths",
    "log_files",
]


def is_log_name(name: str) -> bool:
    """``x.log`` or a rotated ``x.log.N``."""
    stem, _, index = name.rpartition(".log.")
    return name.endswith(".log") or bool(stem and index.isdigit())


def log_files(paths: list[Path]) -> list[Path]:
    """Files as given; directories expanded (recursively, sorted) to the log files inside them."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_log_name(p.name)))
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or directory")
    return found
