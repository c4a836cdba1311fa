"""The analysis of one run: samples + run context -> leak results, stats, criteria, verdict.

:func:`analyze_path` is the public entry point (also called by ``soakctl run`` at the end of a
run). It returns an :class:`Analysis` whose ``to_dict()`` is exactly ``analysis.json``
(docs/run-files.md §5) and writes the four output files unless ``write=False``.

The verdict is ``fail`` when any criterion fails or the baseline comparison finds a regression;
an ``inconclusive`` leak analysis alone does not fail it (add ``leak_conclusive == 1``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import orjson

from soakctl.analyze import baseline as baseline_mod
from soakctl.analyze.criteria import DEFAULT_CRITERIA, evaluate, increase, parse_all
from soakctl.analyze.diagnosis import diagnosis_fields
from soakctl.analyze.leak import MIB, LeakResult, detect_leak
from soakctl.analyze.loader import Samples, load_samples
from soakctl.analyze.rundir import RunContext, load_context, resolve_input
from soakctl.analyze.stats import last_value, series_stats
from soakctl.contracts import (
    RUN_SUMMARY_KEYS,
    SCHEMA_VERSION,
    AnalysisJson,
    BaselineJson,
    CountLeak,
    CriterionResult,
    MemoryLeak,
    RunSummary,
    SeriesStats,
)
from soakctl.errors import InputError, PathError, UsageError, describe_os_error
from soakkit.atomic import write_bytes_atomic

# Growth-prone series besides RSS and their default thresholds (units per hour).
OTHER_THRESHOLDS_PER_H = {"num_fds": 10.0, "num_threads": 5.0, "num_procs": 2.0}
# Prometheus counters grow by design: their "leak" would be noise.
_COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_created", "_bucket")
# A scraped gauge is judged for leaks by default only when its name says it holds a resource.
RESOURCE_WORDS = ("bytes", "size", "queue", "cache", "connections", "conns", "tasks",
                  "handles", "fds", "threads", "goroutines", "memory", "heap", "buffer",
                  "sockets", "objects", "pending", "backlog", "sessions")
# ... and never when it is a business gauge (these grow or wander by design).
BUSINESS_WORDS = ("pnl", "position", "fill", "price", "balance", "equity", "order", "trade",
                  "volume", "notional", "profit", "rebate", "fee")
STATS_EXCLUDED = ("ts", "pid")


@dataclass
class Analysis:
    """The outcome; ``samples``/``context``/``leak_results`` feed the report writers."""

    input_path: Path
    samples: Samples
    context: RunContext
    threshold_mib_per_h: float
    leak_results: dict[str, LeakResult] = field(default_factory=dict)
    stats: dict[str, SeriesStats] = field(default_factory=dict)
    criteria: list[CriterionResult] = field(default_factory=list)
    baseline: BaselineJson | None = None
    verdict: Literal["pass", "fail"] = "pass"
    reasons: list[str] = field(default_factory=list)
    leak_series: list[str] | None = None  # the profile's explicit list, else names decide

    @property
    def exit_code(self) -> int:
        return 0 if self.verdict == "pass" else 1

    @property
    def leak(self) -> LeakResult:
        return self.leak_results["rss_bytes"]

    @property
    def duration_s(self) -> float:
        ts = self.samples.columns["ts"]
        return float(ts[-1] - ts[0])

    def leak_dict(self, series: str) -> MemoryLeak | CountLeak:
        return self.leak_results[series].to_json(memory=series in ("rss_bytes", "uss_bytes"))

    def to_dict(self) -> dict[str, Any]:
        """``analysis.json`` as a plain dict (for the report writers)."""
        return cast(dict[str, Any], self.to_json())

    def to_json(self) -> AnalysisJson:
        """Exactly ``analysis.json`` (``soakctl.contracts.AnalysisJson``)."""
        out = AnalysisJson(
            schema=SCHEMA_VERSION, verdict=self.verdict, reasons=list(self.reasons),
            duration_s=round(self.duration_s, 3), samples=self.samples.n,
            leak=cast(MemoryLeak, self.leak_dict("rss_bytes")),
            leaks={s: self.leak_dict(s) for s in self.leak_results if s != "rss_bytes"},
            stats=self.stats, criteria=self.criteria,
            input=str(self.input_path), warnings=list(self.samples.warnings),
            run=_run_meta(self.context),
        )
        if self.baseline is not None:
            out["baseline"] = self.baseline
        out.update(cast(AnalysisJson, diagnosis_fields(self.context.diagnosis)))
        return out

    # ValueSource for the criteria
    def value(self, series: str, agg: str | None) -> float | None:
        scalar = self._scalar(series)
        if scalar is not _NOT_SCALAR:
            return scalar  # type: ignore[return-value]
        col = self.samples.series(series)
        if col is None or not np.isfinite(col).any():
            return None
        if agg is None or agg == "last":
            return last_value(col)
        if agg == "increase":
            return increase(col)
        if agg == "slope_per_hour":
            res = self.leak_for(series)
            return res.slope_per_h
        stats = self.stats.get(series) or series_stats(col)
        return None if stats is None else cast(dict[str, float], stats)[agg]

    def _scalar(self, series: str) -> float | object | None:
        ctx = self.context
        leak = self.leak
        scalars: dict[str, Callable[[], float | None]] = {
            "rss_slope_mib_per_hour": lambda: None if leak.slope_per_h is None
            else leak.slope_per_h / MIB,
            "leak_detected": lambda: float(leak.detected),
            "leak_conclusive": lambda: float(leak.status != "inconclusive"),
            "duration_s": lambda: self.duration_s,
            "samples": lambda: float(self.samples.n),
            "artifacts_bytes": lambda: None if ctx.artifacts_bytes is None
            else float(ctx.artifacts_bytes),
            "unexpected_exit": lambda: None if ctx.unexpected_exit is None
            else float(ctx.unexpected_exit),
            "after_checks_failed": lambda: None if ctx.after_checks_failed is None
            else float(ctx.after_checks_failed),
            "critical_log_lines": lambda: None if ctx.critical_lines is None
            else float(ctx.critical_lines),
            "error_log_lines": lambda: None if ctx.error_lines is None
            else float(ctx.error_lines),
        }
        fn = scalars.get(series)
        return _NOT_SCALAR if fn is None else fn()

    def leak_for(self, series: str) -> LeakResult:
        if series not in self.leak_results:
            col = self.samples.series(series)
            assert col is not None
            self.leak_results[series] = _detect(self, series, col)
        return self.leak_results[series]


_NOT_SCALAR = object()


def _threshold_per_h(analysis: Analysis, series: str, col: np.ndarray) -> float:
    if series in ("rss_bytes", "uss_bytes", "vms_bytes"):
        return analysis.threshold_mib_per_h * MIB
    if series in OTHER_THRESHOLDS_PER_H:
        return OTHER_THRESHOLDS_PER_H[series]
    # Unknown units (a scraped metric): 5 % of its typical level per hour, at least 1 unit.
    return max(1.0, 0.05 * float(np.nanmedian(np.abs(col))))


def _detect(analysis: Analysis, series: str, col: np.ndarray, min_warmup_s: float = 0.0
            ) -> LeakResult:
    is_mib = series in ("rss_bytes", "uss_bytes", "vms_bytes")
    return detect_leak(series, analysis.samples.columns["ts"], col,
                       _threshold_per_h(analysis, series, col),
                       analysis.samples.columns.get("restarts"),
                       scale=1 / MIB if is_mib else 1.0, unit="MiB" if is_mib else "",
                       min_warmup_s=min_warmup_s)


def _memory_warmups(analysis: Analysis, rss: np.ndarray, uss: np.ndarray) -> None:
    """RSS and USS of one run share one start-up: both are judged after the longer warm-up."""
    results = analysis.leak_results
    results["uss_bytes"] = _detect(analysis, "uss_bytes", uss)
    for _ in range(2):  # twice: a series sampled less often rounds its warm-up up to a bucket
        longer = max(results["rss_bytes"].warmup_s, results["uss_bytes"].warmup_s)
        for name, col in (("rss_bytes", rss), ("uss_bytes", uss)):
            if results[name].warmup_s < longer - 1e-6:
                results[name] = _detect(analysis, name, col, min_warmup_s=longer)


def _run_meta(ctx: RunContext) -> RunSummary:
    return cast(RunSummary, {k: ctx.run[k] for k in RUN_SUMMARY_KEYS if k in ctx.run})


def analyze_path(
    path: Path,
    *,
    criteria: Sequence[str] = (),
    leak_threshold_mib_per_h: float = 10.0,
    baseline: Path | None = None,
    out_dir: Path | None = None,
    warn: Callable[[str], None] | None = None,
    write: bool = True,
) -> Analysis:
    """Analyse a run directory or resources.jsonl and write the outputs (see module doc)."""
    if not leak_threshold_mib_per_h > 0:
        raise UsageError(f"--leak-threshold must be a positive number of MiB/h, "
                         f"got {leak_threshold_mib_per_h}")
    path = Path(path)
    samples_path, run_dir = resolve_input(path)
    context = load_context(run_dir, warn)
    profile_criteria = context.run.get("criteria") or []
    if not isinstance(profile_criteria, list):
        profile_criteria = []
    parsed = parse_all(DEFAULT_CRITERIA, profile_criteria, list(criteria))
    samples = load_samples(samples_path, warn)
    analysis = Analysis(input_path=path, samples=samples, context=context,
                        threshold_mib_per_h=leak_threshold_mib_per_h,
                        leak_series=_leak_series(context))
    _analyse_series(analysis)
    analysis.criteria = [evaluate(c, analysis) for c in parsed]
    if baseline is not None:
        analysis.baseline = _baseline(analysis, baseline, warn)
    _verdict(analysis)
    if write:
        target = out_dir if out_dir is not None else (path if path.is_dir() else path.parent)
        write_outputs(analysis, target)
    return analysis


def _analyse_series(analysis: Analysis) -> None:
    cols = analysis.samples.columns
    for name, col in cols.items():
        if name not in STATS_EXCLUDED:
            stats = series_stats(col)
            if stats is not None:
                analysis.stats[name] = stats
    for name, col in analysis.samples.metrics.items():
        stats = series_stats(col)
        if stats is not None:
            analysis.stats[f"metrics.{name}"] = stats
    analysis.leak_results["rss_bytes"] = _detect(analysis, "rss_bytes", cols["rss_bytes"])
    if "uss_bytes" in cols:
        _memory_warmups(analysis, cols["rss_bytes"], cols["uss_bytes"])
    for name in OTHER_THRESHOLDS_PER_H:
        if name in cols and (analysis.leak_series is None or name in analysis.leak_series):
            analysis.leak_results[name] = _detect(analysis, name, cols[name])
    for name, col in analysis.samples.metrics.items():
        if is_leak_series(f"metrics.{name}", analysis.leak_series) and np.isfinite(col).sum() >= 6:
            analysis.leak_results[f"metrics.{name}"] = _detect(analysis, f"metrics.{name}", col)


def is_leak_series(series: str, explicit: Sequence[str] | None = None) -> bool:
    """Whether a scraped metric is judged for leaks (and noted when it grows).

    A profile's ``leak_series`` list decides when given (``NAME`` or ``metrics.NAME``);
    otherwise counters never are, business gauges (PnL, position, fills, ...) never are, and
    a gauge is when its name says it holds a resource (bytes, size, queue, cache, connections,
    tasks, handles, ...).
    """
    name = series.removeprefix("metrics.")
    if explicit is not None:
        return series in explicit or name in explicit
    low = name.lower()
    if low.endswith(_COUNTER_SUFFIXES) or any(w in low for w in BUSINESS_WORDS):
        return False
    return any(w in low for w in RESOURCE_WORDS)


def _leak_series(ctx: RunContext) -> list[str] | None:
    """The profile's ``leak_series`` as recorded in run.json, when it is a list of names."""
    names = ctx.run.get("leak_series")
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        return list(names)
    return None


def _baseline(analysis: Analysis, path: Path, warn: Callable[[str], None] | None
              ) -> BaselineJson:
    base = baseline_mod.read_baseline_dict(path)
    if base is None:
        try:
            base = analyze_path(path, leak_threshold_mib_per_h=analysis.threshold_mib_per_h,
                                warn=warn, write=False).to_dict()
        except InputError as exc:
            raise InputError(f"baseline: {exc}") from exc
    return baseline_mod.compare(analysis.to_dict(), base, analysis.threshold_mib_per_h, str(path))


# Exit reasons of a run that did not get to judge its whole planned duration: never a pass.
EARLY_END = ("disk_critical", "write_failed", "aborted", "start_failed", "service_failed")


def _verdict(analysis: Analysis) -> None:
    reasons = [f"criterion {row['expr']} failed: {row['message']}"
               for row in analysis.criteria if row["status"] == "fail"]
    run = analysis.context.run
    if run.get("exit_reason") in EARLY_END:
        detail = run.get("abort_reason") or run.get("error")
        reasons.insert(0, f"run ended early: {run['exit_reason']}"
                       + (f" ({detail})" if detail else ""))
    leak = analysis.leak
    if leak.detected:
        reasons.insert(0, f"RSS leak: {leak.reason}")
    run = analysis.context.run
    if run.get("exit_reason") == "aborted":  # abort_on_fail stopped it (soakctl.live_eval)
        reasons.insert(0, f"aborted early: {run.get('abort_reason') or 'abort_on_fail'}")
    if analysis.baseline is not None:
        reasons.extend(analysis.baseline["regressions"])
    analysis.verdict = "fail" if reasons else "pass"
    if leak.status == "inconclusive":
        reasons.append(f"RSS leak analysis inconclusive: {leak.reason}")
    elif not reasons:
        reasons.append(f"no RSS leak: {leak.reason}")
    others = [r for s, r in analysis.leak_results.items() if s != "rss_bytes" and r.detected]
    reasons.extend(f"note: {r.series} grows: {r.reason}" for r in others)
    analysis.reasons = reasons


def write_outputs(analysis: Analysis, out_dir: Path) -> None:
    """analysis.json, report.html, summary.md and junit.xml into ``out_dir``."""
    from soakctl.report import write_reports
    from soakctl.rundir import ensure_dir

    try:
        ensure_dir(out_dir)
        options = orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY
        write_bytes_atomic(out_dir / "analysis.json",
                           orjson.dumps(analysis.to_json(), option=options))
        write_reports(analysis, out_dir)
    except OSError as exc:
        where = exc.filename or out_dir
        raise PathError(f"{where}: cannot write the analysis: {describe_os_error(exc)}") from exc
