"""What ``RUN/diagnose/diagnosis.json`` (written by :mod:`soakctl.diagnose`) adds to
``analysis.json``: ``diagnosis``, the top growing allocation sites (``site`` "file:line",
``bytes``, ``count``, largest first), and ``memory_map``, the growth by mapping kind and the
top growing mappings from ``/proc/PID/smaps`` (docs/live.md §4)."""

from __future__ import annotations

from typing import Any


def diagnosis_fields(diag: dict[str, Any] | None) -> dict[str, Any]:
    if not diag:
        return {}
    out: dict[str, Any] = {}
    sites = diag.get("sites")
    if isinstance(sites, list) and sites:
        out["diagnosis"] = [
            {"site": str(s["site"]), "bytes": int(s["bytes"]), "count": int(s.get("count", 0))}
            for s in sites if isinstance(s, dict) and "site" in s and "bytes" in s
        ]
    smaps = diag.get("smaps")
    if isinstance(smaps, dict):
        out["memory_map"] = smaps
    return out
