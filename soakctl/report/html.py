"""``report.html``: one self-contained page (inline CSS and SVG, no script, no network).

Order: verdict and reasons, the leak decision, the smallest leak the run could have caught and
the decision rule; an abort banner for an aborted run; charts (RSS with the fitted trend, its
confidence band, the warm-up and the deciding window shaded; CPU; threads/FDs/processes; disk
I/O; scraped metrics), with time in s / min / h by the run's length, counters drawn as rates,
constant series folded into one table, and restarts, stops and the abort marked where they
happened; then the criteria table, the leak table for every series, stats, the baseline
comparison and the run metadata.
"""

from __future__ import annotations

import html
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from soakctl.analyze.leak import RULE
from soakctl.report.diagnosis import render_diagnosis_html
from soakctl.report.series import envelope
from soakctl.report.svg import PALETTE, TimeChart
from soakctl.units import format_duration

if TYPE_CHECKING:
    from soakctl.analyze.analysis import Analysis

MIB = 1 << 20
_EVENT_COLORS = {"restart": "#dc2626", "exit": "#b91c1c", "kill": "#7f1d1d", "stop": "#6b7280",
                 "disk_low": "#d97706", "disk_critical": "#d97706", "log_rotated": "#9ca3af",
                 "zombie_reaped": "#9333ea", "give_up": "#7f1d1d",
                 "liveness_failed": "#be185d", "diagnose": "#0891b2"}
_ABORT_COLOR = "#111827"
_COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_created")
_BUILTIN_COUNTERS = ("io_read_bytes", "io_write_bytes", "log_bytes", "restarts")
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2328;
background:#f6f8fa}main{max-width:1060px;margin:0 auto;padding:20px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:26px 0 8px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:14px 18px;margin:12px 0}
.badge{display:inline-block;padding:3px 12px;border-radius:14px;color:#fff;font-weight:700}
.pass{background:#1a7f37}.fail{background:#cf222e}.skip{background:#6e7781}
.leak{color:#cf222e;font-weight:600}.no_leak{color:#1a7f37}.inconclusive{color:#9a6700}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
svg{width:100%;height:auto;display:block;margin:6px 0}
.ct{font-weight:600;font-size:13px}.lg,.xt,.yt,.yl{font-size:11px;fill:#57606a}
.yt{text-anchor:end}.xt{text-anchor:middle}.yl{text-anchor:middle}
.pl{fill:#fff;stroke:#d0d7de}.gr{stroke:#eaeef2}
.rule{color:#57606a;font-size:13px}code{font-size:12px}h3{font-size:14px;margin:14px 0 6px}
.abort{border-color:#111827;border-width:2px}table.const{width:auto;min-width:40%}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _num(v: Any, digits: int = 4) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) < 1e15 else f"{v:.3e}"
    return _e(v)


def render_html(analysis: Analysis) -> str:
    data = analysis.to_dict()
    body = [_header(data), _abort_banner(analysis), _charts(analysis), _criteria(data),
            _leaks(data), render_diagnosis_html(data), _stats(data)]
    if "baseline" in data:
        body.append(_baseline(data["baseline"]))
    body.append(_meta(analysis, data))
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>soakctl report: {_e(data['verdict'].upper())}</title>"
            f"<style>{_CSS}</style></head><body><main>{''.join(body)}</main></body></html>\n")


def _header(data: dict[str, Any]) -> str:
    verdict = data["verdict"]
    leak = data["leak"]
    reasons = "".join(f"<li>{_e(r)}</li>" for r in data["reasons"])
    return (f'<div class="card"><h1>soakctl report <span class="badge {verdict}">'
            f"{verdict.upper()}</span></h1><ul>{reasons}</ul>"
            f'<p>RSS leak analysis: <span class="{leak["status"]}">{_e(leak["status"])}</span>: '
            f'{_e(leak["reason"])} (warm-up {leak["warmup_s"]:.0f} s excluded; '
            f'buckets of {leak["bucket_s"]:.0f} s'
            + (f', cycle of {leak["period_s"]:.0f} s removed' if leak["period_s"] else "")
            + ').</p>' + _min_detectable(leak) +
            f'<p class="rule">Decision rule: {_e(RULE)}</p></div>')


def _min_detectable(leak: dict[str, Any]) -> str:
    value = leak.get("min_detectable_mib_per_hour")
    if value is None:
        return ("<p>This run was too short to say which leak it could have caught: run "
                "<code>soakctl plan</code> on it for the soak length you need.</p>")
    return (f"<p>Smallest RSS leak this run could have caught (95 % power): "
            f"<b>{value:.3g} MiB/h</b>. <code>soakctl plan</code> tells how long to soak for a "
            f"smaller one.</p>")


def _abort(analysis: Analysis) -> tuple[float, str] | None:
    """(when, why) of an aborted run, from run.json."""
    run = analysis.context.run
    if run.get("exit_reason") != "aborted":
        return None
    at = _epoch(run.get("aborted_at"))
    if at is None:
        at = _epoch(run.get("end_ts"))
    if at is None:
        at = float(analysis.samples.columns["ts"][-1])
    return at, str(run.get("abort_reason") or "aborted")


def _epoch(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _abort_banner(analysis: Analysis) -> str:
    abort = _abort(analysis)
    if abort is None:
        return ""
    at, why = abort
    after = format_duration(at - float(analysis.samples.columns["ts"][0]))
    return (f'<div class="card abort"><b>Aborted</b> after {_e(after)}: {_e(why)}. The run '
            f"stopped early on a confident failure (the marker on every chart).</div>")


def _events(analysis: Analysis) -> list[tuple[float, str, str, str]]:
    """(ts, color, tooltip, kind) of what happened during sampling, where it happened.

    A restart is drawn once (not also the exit that caused it); exits the supervisor asked for
    (``expected``) and the shutdown's own events are left out: they are the run's end, drawn
    as one "stop" marker. The abort of an aborted run is added from run.json.
    """
    out: list[tuple[float, str, str, str]] = []
    events = analysis.context.events
    restarts = [float(ev["ts"]) for ev in events if ev.get("event") == "restart"
                and isinstance(ev.get("ts"), int | float)]
    stopped = False
    for ev in events:
        kind = str(ev.get("event", ""))
        ts = ev.get("ts")
        if kind not in _EVENT_COLORS or not isinstance(ts, int | float):
            continue
        if kind == "exit" and (ev.get("expected") or any(0 <= r - ts <= 10 for r in restarts)):
            continue
        if kind == "stop":
            if stopped:
                continue
            stopped = True
        detail = " ".join(f"{k}={v}" for k, v in ev.items() if k in ("name", "returncode",
                                                                   "reason", "file"))
        out.append((float(ts), _EVENT_COLORS[kind], f"{kind} {detail}".strip(), kind))
    if not restarts:
        col = analysis.samples.columns.get("restarts")
        if col is not None:
            r = np.nan_to_num(col)
            ts_col = analysis.samples.columns["ts"]
            out += [(float(ts_col[i]), _EVENT_COLORS["restart"], "restart", "restart")
                    for i in np.flatnonzero(np.diff(r) > 0)[:500] + 1]
    abort = _abort(analysis)
    if abort is not None:
        out.append((abort[0], _ABORT_COLOR, f"abort: {abort[1]}", "abort"))
    return out[:2000]


RATE_POINTS = 20_000


def _rate(t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(times, per-second rate) of a counter, over at most ``RATE_POINTS`` intervals (the
    chart shows 600 buckets); a reset (a drop) or a missing value is left out."""
    if v.size > RATE_POINTS:
        idx = np.linspace(0, v.size - 1, RATE_POINTS).astype(np.int64)
        t, v = t[idx], v[idx]
    rate = np.full(v.size, np.nan)
    dt = np.diff(t)
    dv = np.diff(v)
    ok = (dt > 0) & (dv >= 0) & np.isfinite(dv)
    rate[1:][ok] = dv[ok] / dt[ok]
    return t, rate


def is_counter(name: str) -> bool:
    """Cumulative series: drawn as a rate (their level only says how long the run was)."""
    return name.endswith(_COUNTER_SUFFIXES) or name in _BUILTIN_COUNTERS


def _column(analysis: Analysis, name: str) -> np.ndarray | None:
    col = analysis.samples.series(name)
    if col is None or not np.isfinite(col).any():
        return None
    return col


def _is_constant(col: np.ndarray) -> bool:
    ok = np.isfinite(col)
    finite = col if ok.all() else col[ok]  # no copy of a complete column (10⁶ samples: 8 MB)
    return finite.size > 0 and float(finite.min()) == float(finite.max())


_Events = list[tuple[float, str, str, str]]


def _chart(analysis: Analysis, title: str, unit: str, series: list[tuple[str, str, float]],
           constants: dict[str, float], max_points: int = 600, events: _Events | None = None
           ) -> TimeChart | None:
    """A chart of the non-constant ``series`` (counters as rates); constants are collected.

    ``events``: the run's markers, when the caller already has them (one pass over the
    restarts column per report, not one per chart)."""
    ts = analysis.samples.columns["ts"]
    chart = TimeChart(title=title, y_label=unit, t0_s=float(ts[0]), t1_s=float(ts[-1]))
    drawn = 0
    for i, (name, label, scale) in enumerate(series):
        col = _column(analysis, name)
        if col is None:
            continue
        t = ts
        if is_counter(name.removeprefix("metrics.")):
            t, col = _rate(ts, col)
            label = f"{label} /s"
            if not np.isfinite(col).any():
                continue
        if _is_constant(col):
            constants[label] = float(col[np.flatnonzero(np.isfinite(col))[0]]) * scale
            continue
        env = envelope(t, col, max_points)
        if env is None:
            continue
        color = PALETTE[i % len(PALETTE)]
        chart.band(env.t, env.lo * scale, env.hi * scale, color, 0.15)
        chart.line(env.t, env.mid * scale, color, label)
        drawn += 1
    if not drawn:
        return None
    for at, color, label, kind in (_events(analysis) if events is None else events):
        chart.marker(at, color, label, dash="" if kind == "abort" else "4 3", legend=kind)
    return chart


def _rss_chart(analysis: Analysis, constants: dict[str, float] | None = None,
               events: _Events | None = None) -> str:
    """The RSS chart (a constant RSS goes into ``constants`` instead, when given)."""
    constants = {} if constants is None else constants
    leak = analysis.leak
    ts = analysis.samples.columns["ts"]
    cycles = (float(ts[-1] - ts[0]) / leak.period_s) if leak.period_s else 0.0
    # Buckets of whole cycles when a GC cycle was found: the median line then shows the trend
    # instead of a moiré of the sawtooth against the bucket grid.
    points = int(cycles) if 60 <= cycles <= 600 else 600
    chart = _chart(analysis, "RSS of the process tree (median per bucket, min–max shaded)",
                   "MiB", [("rss_bytes", "RSS", 1 / MIB)], constants, points, events)
    if chart is None:
        return ""
    for i, (t_a, t_b) in enumerate(leak.warmups):
        chart.span(t_a, t_b, "#d97706", "warm-up (excluded)" if i == 0 else "")
    fit = leak.fit
    segments = [seg for seg in fit.get("segments", []) if seg[1] > seg[0]]
    if segments and leak.window != "steady":
        chart.span(min(a for a, _b, _c in segments), max(b for _a, b, _c in segments),
                   "#1f6feb", f"deciding window ({leak.window})")
    for i, (t0, t1, intercept) in enumerate(segments):
        # The fitted line of each segment, and the band its slope CI spans around its middle.
        t = np.linspace(t0, t1, 24)
        tc = (t0 + t1) / 2
        yc = intercept + fit["slope"] * tc
        lo_line = yc + fit["lo"] * (t - tc)
        hi_line = yc + fit["hi"] * (t - tc)
        first = i == 0
        chart.band(t, np.minimum(lo_line, hi_line) / MIB, np.maximum(lo_line, hi_line) / MIB,
                   "#cf222e", 0.18, "95 % CI" if first else "")
        label = f"trend {leak.slope_per_h / MIB if leak.slope_per_h else 0:.3g} MiB/h"
        chart.line(t, (yc + fit["slope"] * (t - tc)) / MIB, "#cf222e", label if first else "",
                   width=2.0, dash="6 3")
    return chart.render()


_FIXED_CHARTS: tuple[tuple[str, str, list[tuple[str, str, float]]], ...] = (
    ("CPU", "% of one core", [("cpu_percent", "cpu_percent", 1.0)]),
    ("Threads, file descriptors, processes", "count",
     [("num_threads", "threads", 1.0), ("num_fds", "fds", 1.0), ("num_procs", "procs", 1.0),
      ("zombies", "zombies", 1.0)]),
    ("Disk I/O and log output", "KiB/s", [("io_read_bytes", "read", 1 / 1024),
                                          ("io_write_bytes", "written", 1 / 1024),
                                          ("log_bytes", "logs", 1 / 1024)]),
)
MAX_METRIC_CHARTS = 8


def _charts(analysis: Analysis) -> str:
    constants: dict[str, float] = {}
    events = _events(analysis)
    svgs = [_rss_chart(analysis, constants, events)]
    for title, unit, series in _FIXED_CHARTS:
        chart = _chart(analysis, title, unit, series, constants, events=events)
        if chart is not None:
            svgs.append(chart.render())
    drawn = 0
    for name in analysis.samples.metrics:
        if name.endswith("_bucket"):
            continue  # histogram buckets: one chart each would bury the rest
        if drawn >= MAX_METRIC_CHARTS:
            break
        unit = "per second" if is_counter(name) else "value"
        chart = _chart(analysis, f"metric {name}" + (" (rate)" if is_counter(name) else ""),
                       unit, [(f"metrics.{name}", name, 1.0)], constants, events=events)
        if chart is not None:
            svgs.append(chart.render())
            drawn += 1
    span = float(analysis.samples.columns["ts"][-1] - analysis.samples.columns["ts"][0])
    return ('<h2>Charts</h2><div class="card">' + "".join(svgs) + _constants(constants)
            + f'<p class="rule">Time since the first sample ({_e(format_duration(span))} in '
            f"all). Counters are drawn as rates per second.</p></div>")


def _constants(constants: dict[str, float]) -> str:
    if not constants:
        return ""
    rows = "".join(f'<tr><td>{_e(k)}</td><td class="n">{_num(v, 6)}</td></tr>'
                   for k, v in constants.items())
    return ('<h3>Constant throughout the run</h3><table class="const"><tr><th>series</th>'
            f"<th>value</th></tr>{rows}</table>")


def _criteria(data: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><td><code>{_e(c["expr"])}</code></td><td class="n">{_num(c["value"], 6)}</td>'
        f'<td><span class="badge {c["status"]}">{_e(c["status"])}</span></td>'
        f'<td>{_e(c["message"])}</td><td>{_e(c["source"])}</td></tr>'
        for c in data["criteria"])
    return ('<h2>Criteria</h2><div class="card"><table><tr><th>criterion</th><th>value</th>'
            f"<th>result</th><th>detail</th><th>from</th></tr>{rows}</table></div>")


def _leaks(data: dict[str, Any]) -> str:
    rows = []
    for series, leak in [("rss_bytes", data["leak"]), *data["leaks"].items()]:
        mib = "slope_mib_per_hour" in leak
        unit = "MiB/h" if mib else "/h"
        slope = leak["slope_mib_per_hour" if mib else "slope_per_hour"]
        ci = leak["ci_mib_per_hour" if mib else "ci_per_hour"]
        thr = leak["threshold_mib_per_hour" if mib else "threshold_per_hour"]
        rows.append(
            f'<tr><td>{_e(series)}</td><td class="{leak["status"]}">{_e(leak["status"])}</td>'
            f'<td class="n">{_num(slope)} {unit}</td><td class="n">{_num(ci[0])} – '
            f'{_num(ci[1])}</td><td class="n">{_num(thr)}</td><td class="n">'
            f'{leak["warmup_s"]:.0f} s</td><td>{_e(leak["reason"])}</td></tr>')
    return ('<h2>Growth analysis</h2><div class="card"><table><tr><th>series</th><th>status</th>'
            "<th>slope</th><th>95 % CI</th><th>threshold</th><th>warm-up</th><th>why</th></tr>"
            + "".join(rows) + "</table></div>")


def _stats(data: dict[str, Any]) -> str:
    keys = ("min", "avg", "p50", "p95", "max", "last")
    rows = []
    for name, s in data["stats"].items():
        scale, label = (1 / MIB, f"{name} (MiB)") if name.endswith("_bytes") else (1.0, name)
        rows.append(f"<tr><td>{_e(label)}</td>" + "".join(
            f'<td class="n">{_num(s[k] * scale)}</td>' for k in keys) + "</tr>")
    head = "".join(f"<th>{k}</th>" for k in keys)
    return (f'<h2>Statistics</h2><div class="card"><table><tr><th>series</th>{head}</tr>'
            f'{"".join(rows)}</table></div>')


def _baseline(base: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><td>{_e(n)}</td><td class="n">{_num(r["current"])}</td><td class="n">'
        f'{_num(r["baseline"])}</td><td class="n">{_num(r["limit"])}</td><td>'
        f'<span class="badge {"pass" if r["ok"] else "fail"}">'
        f'{"ok" if r["ok"] else "regressed"}</span></td></tr>'
        for n, r in base["series"].items())
    return (f'<h2>Baseline: {_e(base["path"])}</h2><div class="card"><table><tr><th>series</th>'
            f"<th>current</th><th>baseline</th><th>limit</th><th>result</th></tr>{rows}"
            "</table></div>")


def _meta(analysis: Analysis, data: dict[str, Any]) -> str:
    ts = analysis.samples.columns["ts"]
    start = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(ts[0])))
    items: list[tuple[str, Any]] = [
        ("input", data["input"]), ("first sample", start),
        ("duration", f"{data['duration_s'] / 3600:.2f} h"), ("samples", data["samples"]),
    ]
    items += [(k, v) for k, v in data["run"].items()]
    items += [("warning", w) for w in data["warnings"][:20]]
    rows = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in items)
    return f'<h2>Run</h2><div class="card"><table>{rows}</table></div>'
