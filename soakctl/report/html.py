"""``report.html``: one self-contained page (inline CSS and SVG, no script, no network).

Order: verdict and reasons, the leak decision and its one-sentence rule, charts (RSS with the
fitted trend, its confidence band and the warm-up shaded; CPU; threads/FDs/processes; scraped
metrics), restarts and other events marked on every chart, the criteria table, the leak table
for every series, stats, the baseline comparison and the run metadata.
"""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from soakctl.analyze.leak import RULE
from soakctl.report.diagnosis import render_diagnosis_html
from soakctl.report.series import envelope
from soakctl.report.svg import PALETTE, TimeChart

if TYPE_CHECKING:
    from soakctl.analyze.analysis import Analysis

MIB = 1 << 20
_EVENT_COLORS = {"restart": "#dc2626", "exit": "#b91c1c", "kill": "#7f1d1d", "stop": "#6b7280",
                 "disk_low": "#d97706", "disk_critical": "#d97706", "log_rotated": "#9ca3af",
                 "zombie_reaped": "#9333ea", "give_up": "#7f1d1d"}
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
.rule{color:#57606a;font-size:13px}code{font-size:12px}
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
    body = [_header(data), _charts(analysis), _criteria(data), _leaks(data),
            render_diagnosis_html(data), _stats(data)]
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
            + ').</p>'
            f'<p class="rule">Decision rule: {_e(RULE)}</p></div>')


def _events(analysis: Analysis) -> list[tuple[float, str, str]]:
    """(ts, color, label) for restarts (from events or the restarts counter) and other events."""
    out: list[tuple[float, str, str]] = []
    for ev in analysis.context.events:
        kind = str(ev.get("event", ""))
        if kind in _EVENT_COLORS:
            out.append((float(ev["ts"]), _EVENT_COLORS[kind], f"{kind} {ev.get('name', '')}"))
    if not any(lbl.startswith("restart") for _t, _c, lbl in out):
        restarts = analysis.samples.columns.get("restarts")
        if restarts is not None:
            r = np.nan_to_num(restarts)
            ts = analysis.samples.columns["ts"]
            out += [(float(ts[i]), _EVENT_COLORS["restart"], "restart")
                    for i in np.flatnonzero(np.diff(r) > 0)[:500] + 1]
    return out[:2000]


def _chart(analysis: Analysis, title: str, unit: str, series: list[tuple[str, str, float]],
           max_points: int = 600) -> TimeChart | None:
    ts = analysis.samples.columns["ts"]
    chart = TimeChart(title=title, y_label=unit, t0_s=float(ts[0]), t1_s=float(ts[-1]))
    drawn = 0
    for i, (name, label, scale) in enumerate(series):
        col = analysis.samples.series(name)
        env = envelope(ts, col, max_points) if col is not None else None
        if env is None:
            continue
        color = PALETTE[i % len(PALETTE)]
        chart.band(env.t, env.lo * scale, env.hi * scale, color, 0.15)
        chart.line(env.t, env.mid * scale, color, label)
        drawn += 1
    if not drawn:
        return None
    for t, color, label in _events(analysis):
        chart.marker(t, color, label)
    return chart


def _rss_chart(analysis: Analysis) -> str:
    leak = analysis.leak
    ts = analysis.samples.columns["ts"]
    cycles = (float(ts[-1] - ts[0]) / leak.period_s) if leak.period_s else 0.0
    # Buckets of whole cycles when a GC cycle was found: the median line then shows the trend
    # instead of a moiré of the sawtooth against the bucket grid.
    points = int(cycles) if 60 <= cycles <= 600 else 600
    chart = _chart(analysis, "RSS of the process tree (median per bucket, min–max shaded)",
                   "MiB", [("rss_bytes", "RSS", 1 / MIB)], points)
    assert chart is not None
    for i, (t_a, t_b) in enumerate(leak.warmups):
        chart.span(t_a, t_b, "#d97706", "warm-up (excluded)" if i == 0 else "")
    fit = leak.fit
    for i, (t0, t1, intercept) in enumerate(fit.get("segments", [])):
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


def _charts(analysis: Analysis) -> str:
    svgs = [_rss_chart(analysis)]
    for title, unit, series in (
        ("CPU", "% of one core", [("cpu_percent", "cpu_percent", 1.0)]),
        ("Threads, file descriptors, processes", "count",
         [("num_threads", "threads", 1.0), ("num_fds", "fds", 1.0), ("num_procs", "procs", 1.0),
          ("zombies", "zombies", 1.0)]),
    ):
        chart = _chart(analysis, title, unit, series)
        if chart is not None:
            svgs.append(chart.render())
    for name in list(analysis.samples.metrics)[:6]:
        chart = _chart(analysis, f"metric {name}", "value", [(f"metrics.{name}", name, 1.0)])
        if chart is not None:
            svgs.append(chart.render())
    return '<h2>Charts</h2><div class="card">' + "".join(svgs) + "</div>"


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
