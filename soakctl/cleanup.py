"""Ending processes an earlier run left behind, by recorded identity, never by name.

A self-hosted runner keeps its machine between jobs: if an earlier soak was cut short in a way
that left soakctl or its children running (the runner service restarted, a power event), the
next run would fight them for ports and files. Every run records who it started: ``run.json``
holds soakctl's own ``pid`` and ``create_time`` (key ``soakctl_process``), and each ``start``
event in ``events.jsonl`` the ``pid`` and ``create_time`` of a service or target. A recorded
process is ended only if a process with that pid exists *and* its create time matches (a pid
reused by an unrelated process is spared), together with its descendants. soakctl goes first:
on Windows its death closes its kill-on-close job objects, on Linux its guard kills its trees.
Then the credentials directories a dead soakctl could not remove (``soakctl-secrets-<pid>-*`` in
the temp directory, :mod:`soakctl.runsecrets`) are deleted.

Names are never used: ``python.exe`` or ``mmbot`` may well be someone else's process.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from soakctl.errors import UsageError
from soakctl.runsecrets import remove_orphaned

#: create times (epoch s) within this are the same process: psutil derives them from the boot
#: time on Linux, which the kernel recomputes and may shift by a fraction of a second.
CREATE_TIME_TOLERANCE_S = 0.5
RUN_DIR_DEPTH = 2  # DIR/<run>/ or DIR/<group>/<run>/ (the soak workflow nests by run number)
KILL_WAIT_S = 10.0


@dataclass(frozen=True)
class RecordedProcess:
    run_dir: Path
    name: str
    pid: int
    create_time: float


@dataclass
class CleanupResult:
    runs: int = 0
    recorded: int = 0
    killed: list[dict[str, Any]] = field(default_factory=list)
    survivors: list[int] = field(default_factory=list)
    secrets_removed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "recorded": self.recorded, "killed": self.killed,
                "survivors": self.survivors, "secrets_removed": self.secrets_removed}


def own_identity() -> dict[str, float | int]:
    """``{"pid", "create_time"}`` of this process, for ``run.json``."""
    return {"pid": os.getpid(), "create_time": psutil.Process().create_time()}


def run_dirs(runs_dir: Path) -> list[Path]:
    """Run directories (holding ``events.jsonl`` or ``run.json``) at most two levels down."""
    found: set[Path] = set()
    for depth in range(RUN_DIR_DEPTH + 1):
        prefix = "*/" * depth
        for pattern in (f"{prefix}events.jsonl", f"{prefix}run.json"):
            found.update(p.parent for p in runs_dir.glob(pattern))
    return sorted(found)


def _recorded(run_dir: Path) -> Iterator[RecordedProcess]:
    try:
        meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        own = meta.get("soakctl_process") or {}
        yield RecordedProcess(run_dir, "soakctl", int(own["pid"]), float(own["create_time"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # no run.json yet, or an older soakctl: the start events still count
    try:
        with open(run_dir / "events.jsonl", "rb") as events:
            for raw in events:
                if b'"start"' not in raw:
                    continue
                try:
                    event = json.loads(raw)
                    if event.get("event") != "start" or event.get("create_time") is None:
                        continue
                    yield RecordedProcess(run_dir, str(event.get("name", "?")), int(event["pid"]),
                                          float(event["create_time"]))
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue  # a truncated last line (soakctl killed mid-write)
    except OSError:
        return


def _protected() -> set[int]:
    """This process and its ancestors (the runner, the shell): never ours to end."""
    pids = {os.getpid()}
    with contextlib.suppress(psutil.Error):
        pids.update(p.pid for p in psutil.Process().parents())
    return pids


def _verified(record: RecordedProcess) -> psutil.Process | None:
    try:
        proc = psutil.Process(record.pid)
        if abs(proc.create_time() - record.create_time) > CREATE_TIME_TOLERANCE_S:
            return None  # the pid now belongs to another process
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except psutil.Error:
        return None


def cleanup(runs_dir: Path, *, dry_run: bool = False) -> CleanupResult:
    """End every live process recorded under ``runs_dir`` whose identity still matches."""
    if not runs_dir.is_dir():
        raise UsageError(f"--runs-dir {runs_dir}: not a directory")
    result = CleanupResult()
    records: list[RecordedProcess] = []
    for run_dir in run_dirs(runs_dir):
        result.runs += 1
        records.extend(_recorded(run_dir))
    result.recorded = len(records)
    records.sort(key=lambda r: r.name != "soakctl")  # soakctl first: its death ends its trees
    protected = _protected()
    doomed: list[psutil.Process] = []
    for record in records:
        proc = _verified(record)
        if proc is None or proc.pid in protected:
            continue
        try:
            tree = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            tree = [proc]
        for member in tree:
            if member.pid in protected or any(member.pid == d.pid for d in doomed):
                continue
            doomed.append(member)
            result.killed.append({"pid": member.pid, "name": record.name,
                                  "root_pid": record.pid, "run_dir": str(record.run_dir)})
    if dry_run:
        return result
    for proc in doomed:
        try:
            proc.kill()  # SIGKILL / TerminateProcess: a leftover gets no second chance
        except psutil.Error:
            continue
    if doomed:
        _gone, alive = psutil.wait_procs(doomed, timeout=KILL_WAIT_S)
        result.survivors = sorted(p.pid for p in alive if not _dead(p))
    for record in records:
        # Only once no process at all has that pid: a live one may be a newer soakctl.
        if record.name == "soakctl" and _gone_for_good(record.pid):
            result.secrets_removed.extend(str(p) for p in remove_orphaned(record.pid))
    return result


def _gone_for_good(pid: int) -> bool:
    try:
        return _dead(psutil.Process(pid))
    except psutil.Error:
        return True


def _dead(proc: psutil.Process) -> bool:
    """Gone, or a zombie waiting for a parent that is not us to reap it: it holds nothing."""
    try:
        return bool(proc.status() == psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return True
