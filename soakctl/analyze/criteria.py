"""The k6-style criteria language of docs/cli.md §6: ``SERIES[.AGG] OP NUMBER``.

Parsing is strict: a malformed expression, an unknown series or an aggregate on a scalar is a
``UsageError`` (exit 2), never silently true. Evaluation looks values up through a
``ValueSource`` (the analysis), which answers None when the run did not record the series;
a default criterion is then *skipped* (not applicable), a user's criterion *fails* ("no data").

Series: the sample fields of docs/run-files.md §4 (``rss_bytes``, ``cpu_percent``, ...),
``metrics.NAME``, and the run-level scalars in :data:`SCALARS`. A series alone means its last
value.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from soakctl.analyze.loader import NUMERIC_FIELDS
from soakctl.contracts import CriterionResult
from soakctl.errors import UsageError

AGGREGATES = ("min", "max", "avg", "p50", "p90", "p95", "p99", "last", "slope_per_hour",
              "increase")
SCALARS: dict[str, str] = {
    "rss_slope_mib_per_hour": "sustained RSS growth rate, MiB/h (the leak analysis)",
    "leak_detected": "1 when the RSS leak analysis says leak, else 0",
    "leak_conclusive": "1 when the RSS leak analysis is not inconclusive, else 0",
    "duration_s": "seconds between the first and the last sample",
    "samples": "number of samples",
    "artifacts_bytes": "size of the run directory (run.json, else measured)",
    "unexpected_exit": "1 when the target exited before the planned end or needed restarts",
    "after_checks_failed": "number of after-checks that did not exit 0",
    "critical_log_lines": "number of log lines containing CRITICAL",
    "error_log_lines": "number of log lines containing an error level word (default ERROR)",
}
SAMPLE_SERIES = tuple(f for f in NUMERIC_FIELDS if f != "ts")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, ">": operator.gt,
}
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_EXPR = re.compile(
    rf"\s*(?P<series>metrics\.[A-Za-z_:][A-Za-z0-9_:]*|{_NAME})"
    rf"(?:\.(?P<agg>{_NAME}))?"
    r"\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<num>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*"
)
DEFAULT_CRITERIA: tuple[str, ...] = (
    "leak_detected == 0",
    "cpu_percent.avg < 80",
    "artifacts_bytes < 5000000000",
    "zombies.max == 0",
    "unexpected_exit == 0",
    "after_checks_failed == 0",
    "critical_log_lines == 0",
)


@dataclass(frozen=True)
class Criterion:
    """One parsed criterion; ``source`` is default, profile or cli."""

    expr: str
    series: str
    agg: str | None
    op: str
    number: float
    source: str = "cli"

    @property
    def key(self) -> str:
        return f"{self.series}.{self.agg}" if self.agg else self.series


class ValueSource(Protocol):
    def value(self, series: str, agg: str | None) -> float | None: ...


def parse_criterion(text: str, source: str = "cli") -> Criterion:
    """Parse one expression or raise ``UsageError`` naming what is wrong."""
    if not isinstance(text, str):
        raise UsageError(f"criterion must be a string, got {text!r}")
    match = _EXPR.fullmatch(text)
    if match is None:
        raise UsageError(
            f"criterion {text!r}: expected SERIES[.AGG] OP NUMBER, e.g. 'cpu_percent.avg < 80'"
        )
    series, agg = match["series"], match["agg"]
    if agg is not None and agg not in AGGREGATES:
        raise UsageError(
            f"criterion {text!r}: unknown aggregate {agg!r} (one of {', '.join(AGGREGATES)})"
        )
    if series in SCALARS:
        if agg is not None:
            raise UsageError(f"criterion {text!r}: {series} is a single value, it takes no .{agg}")
    elif series not in SAMPLE_SERIES and not series.startswith("metrics."):
        raise UsageError(f"criterion {text!r}: unknown series {series!r} "
                         "(a resources.jsonl field, metrics.NAME, or one of "
                         f"{', '.join(SCALARS)})")
    number = float(match["num"])
    if not math.isfinite(number):
        raise UsageError(f"criterion {text!r}: the number must be finite")
    expr = f"{series}{'.' + agg if agg else ''} {match['op']} {match['num']}"
    return Criterion(expr=expr, series=series, agg=agg, op=match["op"], number=number,
                     source=source)


def parse_all(defaults: tuple[str, ...], profile: list[Any], cli: tuple[str, ...] | list[str],
              ) -> list[Criterion]:
    """Defaults, then the profile's, then the command line's; a later duplicate replaces."""
    out: dict[str, Criterion] = {}
    for source, texts in (("default", defaults), ("profile", profile), ("cli", cli)):
        for text in texts:
            crit = parse_criterion(text, source)
            out[crit.expr] = crit
    return list(out.values())


def increase(values: np.ndarray) -> float | None:
    """How much a counter grew: last minus first, counter resets handled (as Prometheus).

    The sum of the positive steps between finite values; a drop is a reset (the process
    restarted and its counter began again at zero), so the value after it counts whole.
    None when there is no finite value.
    """
    v = values[np.isfinite(values)]
    if v.size == 0:
        return None
    steps = np.diff(v)
    return float(np.where(steps >= 0, steps, v[1:]).sum())


def evaluate(crit: Criterion, source: ValueSource) -> CriterionResult:
    """``{"expr", "value", "ok", "status", "source", "message"}`` for one criterion."""
    value = source.value(crit.series, crit.agg)
    if value is None:
        skip = crit.source == "default"
        return CriterionResult(
            expr=crit.expr, value=value, ok=skip, status="skip" if skip else "fail",
            source=crit.source, message="not applicable: not recorded for this run" if skip
            else f"no data for {crit.key}")
    ok = OPERATORS[crit.op](value, crit.number)
    return CriterionResult(
        expr=crit.expr, value=value, ok=ok, status="pass" if ok else "fail", source=crit.source,
        message=f"{crit.key} = {value:.6g}" + ("" if ok else f", want {crit.op} "
                                               f"{crit.number:g}"))
