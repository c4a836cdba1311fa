"""``summary.md`` for ``$GITHUB_STEP_SUMMARY``: verdict, reasons, criteria and an RSS chart.

The chart is a mermaid ``xychart-beta`` block, which GitHub renders natively; it carries at most
48 points (medians of equal time buckets) so the summary stays small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from soakctl.report.series import envelope

if TYPE_CHECKING:
    from soakctl.analyze.analysis import Analysis

MIB = 1 << 20
CHART_POINTS = 48


def _cell(value: Any) -> str:
    text = "–" if value is None else (f"{value:.6g}" if isinstance(value, float) else str(value))
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(analysis: Analysis) -> str:
    data = analysis.to_dict()
    icon = "✅" if data["verdict"] == "pass" else "❌"
    leak = data["leak"]
    lines = [
        f"## soakctl: {data['verdict'].upper()} {icon}", "",
        *[f"- {_cell(r)}" for r in data["reasons"]], "",
        f"RSS growth **{_cell(leak['slope_mib_per_hour'])} MiB/h** "
        f"(95 % CI {_cell(leak['ci_mib_per_hour'][0])} to {_cell(leak['ci_mib_per_hour'][1])}, "
        f"threshold {_cell(leak['threshold_mib_per_hour'])} MiB/h): **{leak['status']}**; "
        f"{data['samples']} samples over {data['duration_s'] / 3600:.2f} h.", "",
        _min_detectable(leak), "",
        "| criterion | value | result |", "| --- | ---: | --- |",
    ]
    lines += [f"| `{_cell(c['expr'])}` | {_cell(c['value'])} | {c['status']} |"
              for c in data["criteria"]]
    lines += ["", *_mermaid(analysis), ""]
    return "\n".join(lines)


def _min_detectable(leak: Any) -> str:
    value = leak.get("min_detectable_mib_per_hour")
    if value is None:
        return "Too short to say which leak this run could have caught (`soakctl plan` it)."
    return (f"Smallest RSS leak this run could have caught (95 % power): **{value:.3g} MiB/h** "
            "(`soakctl plan RUN --leak RATE` for the soak length a smaller one needs).")


def _mermaid(analysis: Analysis) -> list[str]:
    ts = analysis.samples.columns["ts"]
    env = envelope(ts, analysis.samples.columns["rss_bytes"], CHART_POINTS)
    if env is None or env.t.size < 2:
        return []
    mib = [round(float(v) / MIB, 1) for v in env.mid]
    hours = (float(ts[-1]) - float(ts[0])) / 3600
    lo, hi = min(mib), max(mib)
    pad = max((hi - lo) * 0.1, 1.0)
    return [
        "```mermaid", "xychart-beta",
        '  title "RSS (MiB, bucket medians)"',
        f'  x-axis "hours" 0 --> {hours:.2f}',
        f'  y-axis "MiB" {max(lo - pad, 0):.0f} --> {hi + pad:.0f}',
        f"  line [{', '.join(f'{v:g}' for v in mib)}]",
        "```",
    ]
