"""What a run directory adds to the samples: run.json, events.jsonl, logs, artifact size.

Everything here is optional: a bare ``resources.jsonl`` has none of it, and the criteria that
need it are then *skipped* (not applicable) rather than failed. Logs are scanned for CRITICAL
lines in binary blocks, so a multi-gigabyte log costs constant memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from soakctl.contracts import Event
from soakctl.errors import InputError
from soakctl.rundir import dir_size

_CRITICAL = re.compile(rb"\bCRITICAL\b")
DEFAULT_ERROR_LEVELS = ("ERROR",)
_BLOCK_BYTES = 1 << 20
MAX_EVENTS = 10_000
_ALWAYS_KEPT = frozenset({Event.EXIT, Event.CHECK, Event.RESTART})  # beyond MAX_EVENTS


@dataclass
class RunContext:
    """The run-level facts the analysis and report use; None means "not recorded"."""

    run_dir: Path | None
    run: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    critical_lines: int | None = None
    critical_files: list[str] = field(default_factory=list)
    error_lines: int | None = None
    diagnosis: dict[str, Any] | None = None  # RUN/diagnose/diagnosis.json (soakctl.diagnose)
    artifacts_bytes: int | None = None

    @property
    def unexpected_exit(self) -> bool | None:
        if "unexpected_exit" in self.run:
            return bool(self.run["unexpected_exit"])
        exits = [e for e in self.events if e.get("event") == Event.EXIT
                 and e.get("name", "target") == "target"]
        if not exits:
            return None
        return any(e.get("expected") is False for e in exits)

    @property
    def after_checks_failed(self) -> int | None:
        checks = self.run.get("after_checks")
        if isinstance(checks, list):
            return sum(1 for c in checks if isinstance(c, dict) and not c.get("ok", False))
        events = [e for e in self.events if e.get("event") == Event.CHECK]
        if not events:
            return None
        return sum(1 for e in events if not e.get("ok", False))


def resolve_input(path: Path) -> tuple[Path, Path | None]:
    """Map PATH (a run directory or a resources.jsonl) to (samples file, run directory)."""
    if path.is_dir():
        samples = path / "resources.jsonl"
        if not samples.is_file():
            raise InputError(f"{path}: no resources.jsonl in this directory (no samples)")
        return samples, path
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    parent = path.parent
    is_run = (parent / "run.json").is_file() and path.name == "resources.jsonl"
    return path, parent if is_run else None


def load_context(run_dir: Path | None, warn: Callable[[str], None] | None = None) -> RunContext:
    ctx = RunContext(run_dir=run_dir)
    if run_dir is None:
        return ctx
    run_json = run_dir / "run.json"
    if run_json.is_file():
        try:
            data = orjson.loads(run_json.read_bytes())
            ctx.run = data if isinstance(data, dict) else {}
        except (OSError, orjson.JSONDecodeError) as exc:
            if warn:
                warn(f"{run_json}: unreadable, run metadata ignored ({exc})")
    ctx.events = _read_events(run_dir / "events.jsonl", warn)
    logs = run_dir / "logs"
    if logs.is_dir():
        words = ctx.run.get("log_error_levels")
        if not (isinstance(words, list) and words and all(isinstance(w, str) for w in words)):
            words = list(DEFAULT_ERROR_LEVELS)
        scan = _scan_logs(logs, [w.encode() for w in words])
        ctx.critical_lines, ctx.critical_files, ctx.error_lines = scan
    ctx.diagnosis = _read_diagnosis(run_dir / "diagnose" / "diagnosis.json", warn)
    recorded = ctx.run.get("artifacts_bytes")
    ctx.artifacts_bytes = int(recorded) if isinstance(recorded, int) else dir_size(run_dir)
    return ctx


def _read_diagnosis(path: Path, warn: Callable[[str], None] | None) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        if warn:
            warn(f"{path}: unreadable, diagnosis ignored ({exc})")
        return None
    return data if isinstance(data, dict) else None


def _read_events(path: Path, warn: Callable[[str], None] | None) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    events: list[dict[str, Any]] = []
    bad = 0
    with path.open("rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                bad += 1
                continue
            if isinstance(obj, dict) and isinstance(obj.get("ts"), int | float):
                if len(events) < MAX_EVENTS or obj.get("event") in _ALWAYS_KEPT:
                    events.append(obj)
            else:
                bad += 1
    if bad and warn:
        warn(f"{path}: {bad} unreadable event lines skipped")
    return events


def _scan_logs(logs: Path, error_words: list[bytes]) -> tuple[int, list[str], int]:
    """(CRITICAL lines, files holding them, error-level lines) over every log file.

    Lines are matched on whole words (``\bERROR\b``), so ``errors=0`` or ``ERRORS`` is not an
    error line; the level words come from the profile (``logs.error_levels``, via run.json).
    """
    count = errors = 0
    examples: list[str] = []
    error_re = re.compile(rb"\b(?:" + b"|".join(re.escape(w) for w in error_words) + rb")\b")
    for log in sorted(logs.glob("*.log*")):
        if not log.is_file():
            continue
        with log.open("rb") as fh:
            carry = b""
            while block := fh.read(_BLOCK_BYTES):
                lines = (carry + block).split(b"\n")
                carry = lines.pop()[-_BLOCK_BYTES:]
                count += _count(lines, log, examples)
                errors += _count_errors(lines, error_re)
            if carry:
                count += _count([carry], log, examples)
                errors += _count_errors([carry], error_re)
    return count, examples, errors


def _count_errors(lines: list[bytes], error_re: re.Pattern[bytes]) -> int:
    search = error_re.search
    return sum(1 for ln in lines if search(ln))


def _count(lines: list[bytes], log: Path, examples: list[str]) -> int:
    # Only the file and line count are reported, never the text: a log line may carry data the
    # report must not copy (secrets are redacted at the source, but we do not rely on it here).
    hits = sum(1 for ln in lines if b"CRITICAL" in ln and _CRITICAL.search(ln))
    if hits and log.name not in examples:
        examples.append(log.name)
    return hits
