"""``disk``: enough free space where the run writes, for the profile's floor plus what it will log.

Projected volume of a run: every supervised process (target and services) can hold
``logs.max_bytes * (logs.keep + 1)`` of logs (the active file plus ``keep`` rotations), plus one
``resources.jsonl`` line (~1 KiB with metrics) per sampling interval. Free space must cover that
on top of ``disk.min_free`` (below which the supervisor starts pruning and reports
``disk_low``), or the run will end on ``disk_critical`` part-way.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from checks.base import Check, Outcome
from checks.context import CheckContext
from soakctl.profile import Profile

SAMPLE_LINE_BYTES = 1024


def existing_ancestor(path: Path) -> Path:
    """``path`` or the nearest parent that exists (the run creates the rest)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or ".")


def projected_run_bytes(profile: Profile) -> int:
    """Worst-case bytes one run of ``profile`` writes: rotated logs of each process + samples."""
    processes = 1 + len(profile.services)
    logs = processes * profile.logs.max_bytes * (profile.logs.keep + 1)
    samples = int(profile.duration_s / profile.interval_s) * SAMPLE_LINE_BYTES
    return logs + samples


def _human(size_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size_bytes) < 1000 or unit == "TB":
            return f"{size_bytes:.0f} {unit}" if unit == "B" else f"{size_bytes:.1f} {unit}"
        size_bytes /= 1000
    raise AssertionError("unreachable")


class DiskCheck(Check):
    name = "disk"
    description = "free disk space covers the profile's floor plus the run's projected logs"
    timeout_s = 5.0

    def run(self, ctx: CheckContext) -> Outcome:
        profile = ctx.effective_profile
        where = existing_ancestor(ctx.resolve(ctx.artifacts_dir))
        free = shutil.disk_usage(where).free
        projected = projected_run_bytes(profile)
        need = profile.disk.min_free_bytes + projected
        details = {
            "path": str(where),
            "free_bytes": free,
            "min_free_bytes": profile.disk.min_free_bytes,
            "projected_run_bytes": projected,
        }
        if free < need:
            return Outcome.fail(
                f"{_human(free)} free at {where}, need {_human(need)} "
                f"(disk.min_free {_human(profile.disk.min_free_bytes)} + projected run "
                f"{_human(projected)})",
                fix="free space, write artifacts elsewhere (--out), or lower logs.max_bytes / "
                "logs.keep in the profile",
                **details,
            )
        return Outcome.ok(
            f"{_human(free)} free at {where} (need {_human(need)})",
            **details,
        )
