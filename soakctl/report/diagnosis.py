"""The report's "Diagnosis" section: top growing allocation sites and memory mappings.

Drawn from ``analysis.json``'s ``diagnosis`` and ``memory_map`` (see
:mod:`soakctl.analyze.diagnosis`); empty when the run has neither.
"""

from __future__ import annotations

import html
from typing import Any

from soakctl.units import format_bytes


def _e(value: Any) -> str:
    return html.escape(str(value))


def render_diagnosis_html(data: dict[str, Any]) -> str:
    sites = data.get("diagnosis") or []
    mmap = data.get("memory_map") or {}
    if not sites and not mmap:
        return ""
    parts = ['<h2 id="diagnosis">Diagnosis</h2><div class="card">']
    if sites:
        rows = "".join(
            f'<tr><td><code>{_e(s["site"])}</code></td><td class="n">{_e(format_bytes(s["bytes"]))}'
            f'</td><td class="n">{s["count"]:+d}</td></tr>' for s in sites)
        parts.append(
            "<p>Top growing allocation sites (tracemalloc, first to last snapshot):</p>"
            '<table class="diag-sites"><tr><th>site (file:line)</th><th>growth</th>'
            f"<th>blocks</th></tr>{rows}</table>")
    if mmap:
        kinds = "".join(
            f'<tr><td>{_e(kind)}</td><td class="n">{_e(format_bytes(v["first_bytes"]))}</td>'
            f'<td class="n">{_e(format_bytes(v["last_bytes"]))}</td>'
            f'<td class="n">{_signed(v["growth_bytes"])}</td></tr>'
            for kind, v in sorted((mmap.get("by_kind") or {}).items(),
                                  key=lambda kv: -kv[1]["growth_bytes"]))
        parts.append(
            "<p>Resident memory by mapping kind (/proc/PID/smaps, first to last snapshot):</p>"
            "<table><tr><th>kind</th><th>first</th><th>last</th><th>growth</th></tr>"
            f"{kinds}</table>")
        top = mmap.get("top_mappings") or []
        if top:
            rows = "".join(
                f'<tr><td><code>{_e(m["path"])}</code></td><td>{_e(m["kind"])}</td>'
                f'<td class="n">{_signed(m["growth_bytes"])}</td>'
                f'<td>{"new" if m.get("new") else ""}</td></tr>' for m in top[:10])
            parts.append(
                f"<p>Top growing mappings ({mmap.get('new_mappings', 0)} new):</p>"
                "<table><tr><th>mapping</th><th>kind</th><th>growth</th><th></th></tr>"
                f"{rows}</table>")
    parts.append("</div>")
    return "".join(parts)


def _signed(n: int) -> str:
    text = format_bytes(abs(n))
    return _e(("+" if n >= 0 else "−") + text)
