"""``soakctl analyze --prometheus``: a fleet's memory history, judged series by series.

Each series a PromQL range query returns is analysed exactly like the ``rss_bytes`` column of a
run (same leak detector, threshold in MiB/h, default and ``--criteria`` criteria), as if it were a
``resources.jsonl`` holding only ``ts`` and ``rss_bytes``. The combined verdict fails when any
series fails. ``analysis.json`` keeps the usual top-level keys, taken from the deciding series
(the first failing one, else the fastest-growing one), plus ``series`` (one block per series
with its ``labels``) and ``source`` (server, query, range, step, pages).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from soakctl.analyze.analysis import Analysis, _analyse_series, _verdict
from soakctl.analyze.criteria import DEFAULT_CRITERIA, evaluate, parse_all
from soakctl.analyze.loader import Samples
from soakctl.analyze.rundir import RunContext
from soakctl.errors import InputError, UsageError
from soakctl.promclient import RangeResult, Series, public_url

MIB = 1 << 20


@dataclass
class SeriesAnalysis:
    series: Series
    analysis: Analysis

    def to_dict(self) -> dict[str, Any]:
        data = self.analysis.to_dict()
        return {"name": self.series.name, "labels": dict(self.series.labels),
                "verdict": data["verdict"], "reasons": data["reasons"],
                "samples": data["samples"], "duration_s": data["duration_s"],
                "leak": data["leak"], "stats": data["stats"], "criteria": data["criteria"]}


@dataclass
class PrometheusAnalysis:
    """The combined outcome; ``parts`` hold each series' own :class:`Analysis`."""

    url: str
    query: str
    result: RangeResult
    parts: list[SeriesAnalysis]
    verdict: str = "pass"
    reasons: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.verdict == "pass" else 1

    @property
    def deciding(self) -> SeriesAnalysis:
        failing = [p for p in self.parts if p.analysis.verdict == "fail"]
        if failing:
            return failing[0]
        return max(self.parts, key=lambda p: p.analysis.leak.slope_per_h or float("-inf"))

    def to_dict(self) -> dict[str, Any]:
        out = self.deciding.analysis.to_dict()
        out.update(
            verdict=self.verdict, reasons=list(self.reasons),
            input=f"{public_url(self.url)} {self.query}",
            warnings=[*self.result.warnings, *out["warnings"]],
            run={},
            source={"prometheus": public_url(self.url), "query": self.query,
                    "start": self.result.start, "end": self.result.end,
                    "step_s": self.result.step_s, "pages": self.result.pages},
            series=[p.to_dict() for p in self.parts],
        )
        return out


def analyze_series(url: str, query: str, result: RangeResult, *, criteria: Sequence[str] = (),
                   leak_threshold_mib_per_h: float = 10.0) -> PrometheusAnalysis:
    """Analyse every series of ``result`` (see module doc)."""
    if not leak_threshold_mib_per_h > 0:
        raise UsageError(f"--leak-threshold must be a positive number of MiB/h, "
                         f"got {leak_threshold_mib_per_h}")
    parsed = parse_all(DEFAULT_CRITERIA, [], list(criteria))
    if not result.series:
        raise InputError(f"{public_url(url)}: the query {query!r} returned no series in "
                         "this range")
    parts = []
    for series in result.series:
        keep = np.isfinite(series.values)
        if keep.sum() < 2:
            raise InputError(f"series {series.name}: fewer than 2 finite points in this range")
        samples = Samples(path=Path(series.name), columns={
            "ts": series.ts[keep], "rss_bytes": series.values[keep]})
        analysis = Analysis(input_path=Path(series.name), samples=samples,
                            context=RunContext(run_dir=None),
                            threshold_mib_per_h=leak_threshold_mib_per_h)
        _analyse_series(analysis)
        analysis.criteria = [evaluate(c, analysis) for c in parsed]
        _verdict(analysis)
        parts.append(SeriesAnalysis(series, analysis))
    combined = PrometheusAnalysis(url=url, query=query, result=result, parts=parts)
    failing = [p for p in parts if p.analysis.verdict == "fail"]
    combined.verdict = "fail" if failing else "pass"
    if failing:
        combined.reasons = [f"{p.series.name}: {r}" for p in failing
                            for r in p.analysis.reasons if not r.startswith("note:")]
    else:
        combined.reasons = [f"all {len(parts)} series pass"]
        combined.reasons += [f"{p.series.name}: {p.analysis.reasons[0]}" for p in parts
                             if p.analysis.reasons]
    return combined


def write_outputs(result: PrometheusAnalysis, out_dir: Path,
                  warn: Callable[[str], None] | None = None) -> None:
    """analysis.json, report.html (every series), summary.md and junit.xml into ``out_dir``."""
    from soakctl.report.prometheus import render_html, render_junit, render_markdown

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        options = orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY
        for name, text in (("analysis.json", orjson.dumps(result.to_dict(), option=options)),
                           ("report.html", render_html(result).encode()),
                           ("summary.md", render_markdown(result).encode()),
                           ("junit.xml", render_junit(result).encode())):
            tmp = out_dir / f".{name}.tmp"
            tmp.write_bytes(text)
            tmp.replace(out_dir / name)
    except OSError as exc:
        raise UsageError(f"{out_dir}: cannot write the analysis ({exc.strerror or exc})") from exc
