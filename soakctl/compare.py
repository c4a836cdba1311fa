"""``soakctl compare``: several runs against one baseline, as one table.

Each input is a run directory (its ``analysis.json``, or the run analysed afresh when it has
none; nothing is written) or an ``analysis.json`` file. One row per run: verdict, RSS leak slope
with its 95 % CI, RSS max, CPU average, fds and threads max, restarts and duration; then its
change against BASE, judged with the tolerances of ``soakctl analyze --baseline``
(:mod:`soakctl.analyze.baseline`). A run regresses when any of those comparisons fails.

pandas builds the table: the runs become a frame indexed by run name, the deltas are the frame
minus the BASE row, the regressions are joined in, and the text, CSV and markdown forms are
written from the frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from soakctl.analyze import baseline as baseline_mod
from soakctl.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

MIB = 1 << 20
FORMATS = ("text", "md", "csv", "json")
# Columns with a delta against BASE: (column, path in analysis.json, scale).
METRICS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("slope_mib_per_h", ("leak", "slope_mib_per_hour"), 1.0),
    ("rss_max_mib", ("stats", "rss_bytes", "max"), 1 / MIB),
    ("cpu_avg_pct", ("stats", "cpu_percent", "avg"), 1.0),
    ("fds_max", ("stats", "num_fds", "max"), 1.0),
    ("threads_max", ("stats", "num_threads", "max"), 1.0),
    ("restarts", ("run", "restarts"), 1.0),
    ("duration_s", ("duration_s",), 1.0),
)


@dataclass
class LoadedRun:
    name: str
    path: Path
    analysis: dict[str, Any]


def load_run(path: Path, threshold_mib_per_h: float) -> LoadedRun:
    """An analysis dict for a run directory or an ``analysis.json`` (bad input: InputError)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    data = baseline_mod.read_baseline_dict(path)
    if data is None:
        if not path.is_dir():
            raise InputError(f"{path}: not a run directory or an analysis.json")
        from soakctl.analyze import analyze_path

        data = analyze_path(path, leak_threshold_mib_per_h=threshold_mib_per_h,
                            write=False).to_dict()
    name = path.name if path.is_dir() else path.parent.name or str(path)
    return LoadedRun(name=name, path=path, analysis=data)


def _get(d: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    cur: Any = d
    for k in keys:
        if not isinstance(cur, dict) or k not in cur:
            return None
        cur = cur[k]
    if isinstance(cur, bool) or not isinstance(cur, int | float):
        return None
    return float(cur)


def _restarts(a: dict[str, Any]) -> float | None:
    value = _get(a, ("run", "restarts"))
    return value if value is not None else _get(a, ("stats", "restarts", "max"))


def _record(run: LoadedRun) -> dict[str, Any]:
    a = run.analysis
    leak = a.get("leak") if isinstance(a.get("leak"), dict) else {}
    ci = leak.get("ci_mib_per_hour") if isinstance(leak, dict) else None
    lo, hi = (ci if isinstance(ci, list) and len(ci) == 2 else (None, None))
    row: dict[str, Any] = {"run": run.name, "path": str(run.path),
                           "verdict": a.get("verdict", "?"),
                           "leak": leak.get("status", "?") if isinstance(leak, dict) else "?",
                           "ci_lo": lo, "ci_hi": hi}
    for column, keys, scale in METRICS:
        value = _restarts(a) if column == "restarts" else _get(a, keys)
        row[column] = None if value is None else value * scale
    return row


def _unique_names(runs: list[LoadedRun]) -> None:
    seen: dict[str, int] = {}
    for run in runs:
        n = seen.get(run.name, 0)
        seen[run.name] = n + 1
        if n:
            run.name = f"{run.name}#{n + 1}"


@dataclass
class Comparison:
    """The table (one row per run, BASE first) and the names of the regressed runs."""

    frame: pd.DataFrame
    regressed: list[str]
    regressions: dict[str, list[str]]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressed else 0


def compare_runs(base_path: Path, run_paths: Sequence[Path], *,
                 threshold_mib_per_h: float = 10.0) -> Comparison:
    """Load BASE and the runs, compare each run with BASE (see module doc)."""
    import pandas as pd

    if not run_paths:
        raise InputError("compare: give BASE and at least one RUN")
    base = load_run(base_path, threshold_mib_per_h)
    runs = [load_run(p, threshold_mib_per_h) for p in run_paths]
    base.name = f"{base.name} (base)"
    _unique_names([base, *runs])
    threshold = _get(base.analysis, ("leak", "threshold_mib_per_hour")) or threshold_mib_per_h

    frame = pd.DataFrame.from_records([_record(r) for r in (base, *runs)]).set_index("run")
    values = frame[[c for c, _, _ in METRICS]].apply(pd.to_numeric, errors="coerce")
    deltas = (values - values.loc[base.name]).add_prefix("d_")

    regressions: dict[str, list[str]] = {}
    verdicts = []
    for run in runs:
        block = baseline_mod.compare(run.analysis, base.analysis, threshold, str(base.path))
        regressions[run.name] = list(block["regressions"])
        verdicts.append({"run": run.name, "regressed": not block["ok"],
                         "regressions": "; ".join(block["regressions"])})
    judged = pd.DataFrame.from_records(verdicts).set_index("run")
    frame = frame.join(deltas).join(judged)
    frame.loc[base.name, "regressed"] = False
    frame.loc[base.name, "regressions"] = ""
    frame["regressed"] = frame["regressed"].astype(bool)
    regressed = [str(name) for name in frame.index[frame["regressed"]].tolist()]
    return Comparison(frame=frame, regressed=regressed, regressions=regressions)


# ---------------------------------------------------------------------------------------------
# Rendering

_DISPLAY = (("verdict", "verdict"), ("leak", "leak"), ("slope_mib_per_h", "slope MiB/h"),
            ("ci", "95% CI"), ("rss_max_mib", "RSS max MiB"), ("cpu_avg_pct", "CPU avg %"),
            ("fds_max", "fds max"), ("threads_max", "threads max"), ("restarts", "restarts"),
            ("duration_s", "duration s"), ("change", "change vs base"), ("status", "status"))


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _signed(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:+,.2f}"


def display_frame(cmp: Comparison) -> pd.DataFrame:
    """The human table: formatted strings, one row per run."""
    import pandas as pd

    f = cmp.frame
    rows = []
    for name, r in f.iterrows():
        is_base = str(name).endswith("(base)")
        change = "" if is_base else ", ".join(
            f"{label} {_signed(r[f'd_{col}'])}" for col, label in
            (("slope_mib_per_h", "slope"), ("rss_max_mib", "rss"), ("cpu_avg_pct", "cpu")))
        status = "base" if is_base else ("REGRESSED" if r["regressed"] else "ok")
        rows.append({
            "run": str(name), "verdict": r["verdict"], "leak": r["leak"],
            "slope_mib_per_h": _fmt(r["slope_mib_per_h"]),
            "ci": f"[{_fmt(r['ci_lo'])}, {_fmt(r['ci_hi'])}]",
            "rss_max_mib": _fmt(r["rss_max_mib"], 1), "cpu_avg_pct": _fmt(r["cpu_avg_pct"]),
            "fds_max": _fmt(r["fds_max"], 0), "threads_max": _fmt(r["threads_max"], 0),
            "restarts": _fmt(r["restarts"], 0), "duration_s": _fmt(r["duration_s"], 0),
            "change": change, "status": status,
        })
    out = pd.DataFrame.from_records(rows).set_index("run")
    return out.rename(columns=dict(_DISPLAY))


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(cmp: Comparison) -> str:
    """A GitHub-flavoured markdown table (written from the frame; no tabulate needed)."""
    table = display_frame(cmp).reset_index()
    header = "| " + " | ".join(_md_cell(c) for c in table.columns) + " |"
    rule = "| " + " | ".join("---" for _ in table.columns) + " |"
    body = ["| " + " | ".join(_md_cell(v) for v in row) + " |"
            for row in table.itertuples(index=False)]
    lines = [header, rule, *body, ""]
    lines.extend(_verdict_lines(cmp, bullet="- "))
    return "\n".join(lines) + "\n"


def to_text(cmp: Comparison) -> str:
    table = display_frame(cmp)
    text = str(table.to_string())
    return text + "\n\n" + "\n".join(_verdict_lines(cmp, bullet="  ")) + "\n"


def to_csv(cmp: Comparison) -> str:
    return str(cmp.frame.to_csv(float_format="%.6g"))


def to_json(cmp: Comparison) -> bytes:
    f = cmp.frame.astype(object).where(cmp.frame.notna(), None)
    runs = [{"run": str(name), **{k: _plain(v) for k, v in row.items()}}
            for name, row in f.iterrows()]
    doc = {"ok": not cmp.regressed, "base": runs[0]["run"], "regressed": cmp.regressed,
           "regressions": cmp.regressions, "runs": runs}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return value


def _verdict_lines(cmp: Comparison, bullet: str) -> list[str]:
    if not cmp.regressed:
        return [f"no regression against the base ({len(cmp.regressions)} runs compared)"]
    lines = [f"REGRESSED: {', '.join(cmp.regressed)}"]
    for name in cmp.regressed:
        lines.extend(f"{bullet}{name}: {r}" for r in cmp.regressions[name])
    return lines


def render(cmp: Comparison, fmt: str) -> bytes:
    if fmt == "json":
        return to_json(cmp) + b"\n"
    text = {"text": to_text, "md": to_markdown, "csv": to_csv}[fmt](cmp)
    return text.encode()
