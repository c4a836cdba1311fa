"""Reports for ``soakctl analyze --prometheus``: every series on one page.

The page opens with the combined verdict and a table of all series (labels, verdict, slope and
CI); each series then gets its own section with the RSS-style chart (trend, CI band, warm-up)
and its criteria, drawn by the same helpers as a run's report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from soakctl.report.html import _CSS, _criteria, _e, _num, _rss_chart
from soakctl.report.junit import _a, _case

if TYPE_CHECKING:
    from soakctl.analyze.prometheus import PrometheusAnalysis

MIB = 1 << 20


def _summary_rows(data: dict[str, Any]) -> list[tuple[str, str, str, str, str, int]]:
    rows = []
    for s in data["series"]:
        leak = s["leak"]
        ci = leak["ci_mib_per_hour"]
        rows.append((s["name"], s["verdict"], leak["status"], _num(leak["slope_mib_per_hour"]),
                     f"{_num(ci[0])} – {_num(ci[1])}", s["samples"]))
    return rows


def render_html(result: PrometheusAnalysis) -> str:
    data = result.to_dict()
    verdict = data["verdict"]
    src = data["source"]
    reasons = "".join(f"<li>{_e(r)}</li>" for r in data["reasons"])
    table = "".join(
        f'<tr><td><code>{_e(name)}</code></td><td><span class="badge {v}">{_e(v)}</span></td>'
        f'<td class="{st}">{_e(st)}</td><td class="n">{slope}</td><td class="n">{ci}</td>'
        f'<td class="n">{n}</td></tr>' for name, v, st, slope, ci, n in _summary_rows(data))
    body = [
        f'<div class="card"><h1>soakctl report (Prometheus) <span class="badge {verdict}">'
        f"{verdict.upper()}</span></h1><ul>{reasons}</ul>"
        f"<p>Query <code>{_e(src['query'])}</code> on {_e(src['prometheus'])}, step "
        f"{src['step_s']:g} s, {src['pages']} page(s); each series analysed as a memory series "
        "in bytes.</p></div>",
        '<h2>Series</h2><div class="card"><table><tr><th>series</th><th>verdict</th>'
        "<th>leak</th><th>slope MiB/h</th><th>95 % CI</th><th>points</th></tr>"
        f"{table}</table></div>",
    ]
    for part, block in zip(result.parts, data["series"], strict=True):
        leak = block["leak"]
        body.append(
            f'<h2>{_e(block["name"])} <span class="badge {block["verdict"]}">'
            f'{_e(block["verdict"])}</span></h2><div class="card"><p class="{leak["status"]}">'
            f'{_e(leak["status"])}: {_e(leak["reason"])}</p>{_rss_chart(part.analysis)}</div>'
            + _criteria(block))
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>soakctl report: {_e(verdict.upper())}</title>"
            f"<style>{_CSS}</style></head><body><main>{''.join(body)}</main></body></html>\n")


def _md(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(result: PrometheusAnalysis) -> str:
    data = result.to_dict()
    icon = "✅" if data["verdict"] == "pass" else "❌"
    lines = [f"## soakctl (Prometheus): {data['verdict'].upper()} {icon}", "",
             *[f"- {_md(r)}" for r in data["reasons"]], "",
             f"Query `{_md(data['source']['query'])}`, step {data['source']['step_s']:g} s.", "",
             "| series | verdict | leak | slope MiB/h | 95 % CI | points |",
             "| --- | --- | --- | ---: | --- | ---: |"]
    lines += [f"| `{_md(name)}` | {v} | {st} | {slope} | {_md(ci)} | {n} |"
              for name, v, st, slope, ci, n in _summary_rows(data)]
    return "\n".join([*lines, ""])


def render_junit(result: PrometheusAnalysis) -> str:
    data = result.to_dict()
    cases = [_case(f"soakctl.prometheus.{s['name']}", c["expr"], c["status"], c["message"])
             for s in data["series"] for c in s["criteria"]]
    failures = sum(1 for c in cases if "<failure" in c)
    skipped = sum(1 for c in cases if "<skipped" in c)
    counts = f'tests="{len(cases)}" failures="{failures}" errors="0" skipped="{skipped}"'
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="soakctl" {counts}>',
        f'  <testsuite name="soakctl.analyze.prometheus" {counts}>',
        "    <properties>",
        f'      <property name="verdict" value="{_a(data["verdict"])}"/>',
        f'      <property name="query" value="{_a(data["source"]["query"])}"/>',
        "    </properties>",
        *cases, "  </testsuite>", "</testsuites>", "",
    ])
