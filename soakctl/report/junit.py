"""``junit.xml``: each criterion is a test case, so CI systems list them natively.

A failed criterion is a ``<failure>``, a criterion not applicable to this run (no run.json, no
logs) is ``<skipped>``. Baseline regressions get one test case per compared series.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from soakctl.analyze.analysis import Analysis

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _a(value: Any) -> str:
    """Escape for an XML attribute or text node (control characters dropped)."""
    return html.escape(_XML_BAD.sub("", str(value)), quote=True)


def _case(classname: str, name: str, status: str, message: str) -> str:
    head = f'    <testcase classname="{_a(classname)}" name="{_a(name)}" time="0">'
    if status == "fail":
        inner = f'<failure message="{_a(message)}">{_a(message)}</failure>'
    elif status == "skip":
        inner = f'<skipped message="{_a(message)}"/>'
    else:
        inner = f"<system-out>{_a(message)}</system-out>"
    return f"{head}{inner}</testcase>"


def render_junit(analysis: Analysis) -> str:
    data = analysis.to_dict()
    cases = [_case("soakctl.criteria", c["expr"], c["status"], c["message"])
             for c in data["criteria"]]
    for name, row in (data.get("baseline") or {}).get("series", {}).items():
        msg = (f"current {row['current']:.6g}, baseline {row['baseline']:.6g}, "
               f"limit {row['limit']:.6g}")
        cases.append(_case("soakctl.baseline", name, "pass" if row["ok"] else "fail", msg))
    failures = sum(1 for c in cases if "<failure" in c)
    skipped = sum(1 for c in cases if "<skipped" in c)
    counts = f'tests="{len(cases)}" failures="{failures}" errors="0" skipped="{skipped}"'
    time_s = f'{data["duration_s"]:.3f}'
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="soakctl" {counts} time="{time_s}">',
        f'  <testsuite name="soakctl.analyze" {counts} time="{time_s}">',
        "    <properties>",
        f'      <property name="verdict" value="{_a(data["verdict"])}"/>',
        f'      <property name="leak_status" value="{_a(data["leak"]["status"])}"/>',
        f'      <property name="input" value="{_a(data["input"])}"/>',
        "    </properties>",
        *cases,
        "  </testsuite>",
        "</testsuites>",
        "",
    ])
