"""Compare this run with a previous one (``--baseline``): slopes, peaks and CPU, per series.

The baseline is a run directory or resources.jsonl (analysed afresh, nothing written) or an
``analysis.json`` (read as is; a run directory with one uses it). A series regresses when the
current value exceeds the baseline by more than its tolerance:

* RSS growth rate: baseline + max(half the leak threshold, 25 % of |baseline|) MiB/h;
* peaks (``rss_bytes.max``, ``num_fds.max``, ``num_threads.max``): baseline × 1.10 + a small
  absolute allowance (16 MiB, 10 fds, 4 threads);
* CPU (``cpu_percent.avg``): baseline × 1.20 + 5 percentage points.

Any regression fails the verdict; each row says what was compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from soakctl.contracts import BaselineJson, BaselineRow
from soakctl.errors import InputError

MIB = 1 << 20
# (label, path in analysis.json, relative tolerance, absolute allowance)
_PEAKS = (
    ("rss_bytes.max", ("stats", "rss_bytes", "max"), 0.10, 16 * MIB),
    ("num_fds.max", ("stats", "num_fds", "max"), 0.10, 10.0),
    ("num_threads.max", ("stats", "num_threads", "max"), 0.10, 4.0),
    ("cpu_percent.avg", ("stats", "cpu_percent", "avg"), 0.20, 5.0),
)


def read_baseline_dict(path: Path) -> dict[str, Any] | None:
    """The stored analysis.json for ``path`` if there is one, else None (analyse it then)."""
    candidate = path / "analysis.json" if path.is_dir() else path
    if candidate.name != "analysis.json" or not candidate.is_file():
        return None
    try:
        data = orjson.loads(candidate.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InputError(f"{candidate}: baseline is not a readable analysis.json") from exc
    if not isinstance(data, dict) or "stats" not in data:
        raise InputError(f"{candidate}: baseline is not an analysis.json (no stats)")
    return data


def _get(d: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    cur: Any = d
    for k in keys:
        if not isinstance(cur, dict) or k not in cur:
            return None
        cur = cur[k]
    return float(cur) if isinstance(cur, int | float) and not isinstance(cur, bool) else None


def compare(current: Mapping[str, Any], base: Mapping[str, Any], threshold_mib_per_h: float,
            source: str) -> BaselineJson:
    """The ``baseline`` block of analysis.json: per-series rows and the regressions."""
    rows: dict[str, BaselineRow] = {}
    slope_key = ("leak", "slope_mib_per_hour")
    cur, old = _get(current, slope_key), _get(base, slope_key)
    if cur is not None and old is not None:
        limit = old + max(threshold_mib_per_h / 2.0, 0.25 * abs(old))
        rows["rss_slope_mib_per_hour"] = _row(cur, old, limit)
    for label, keys, rel, allowance in _PEAKS:
        cur, old = _get(current, keys), _get(base, keys)
        if cur is not None and old is not None:
            rows[label] = _row(cur, old, old * (1.0 + rel) + allowance)
    regressions = [f"{name} regressed: {r['current']:.6g} vs baseline {r['baseline']:.6g} "
                   f"(limit {r['limit']:.6g})" for name, r in rows.items() if not r["ok"]]
    return BaselineJson(path=source, ok=not regressions, series=rows, regressions=regressions)


def _row(current: float, baseline: float, limit: float) -> BaselineRow:
    return BaselineRow(current=current, baseline=baseline, delta=current - baseline,
                       limit=limit, ok=current <= limit)
