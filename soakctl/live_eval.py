"""Judging a run while it runs: the live leak estimate and ``abort_on_fail`` (docs/live.md §2).

:class:`LiveEvaluator` takes every sample (a few array writes) and, at its cadence, runs the
same leak detector as the final analysis on the RSS so far, plus a check of the criteria that
can only get worse. It answers a :class:`LiveDecision`: the current estimate (for the live
views and observers), whether a leak was seen for the first time (for ``diagnose``) and whether
the run should stop now because its verdict can no longer be a pass. Evaluations run from
``min(after, 2 min)``, every ``min(every, 1 min)``:

* the leak is detected with the confidence the detector demands of a recent window (99 %: the
  lower bound of a 99 % interval is above the threshold) in two consecutive evaluations, from
  ``after`` on (before it, only when that bound is ``EARLY_FACTOR`` times the threshold); or
* a criterion on a value that never goes back down has failed: ``X.max`` with ``<``, ``<=``
  or ``==`` once the maximum is past the bound (``X.min`` mirrored), ``X.increase`` likewise,
  the cumulative counters ``restarts`` and ``liveness_failures`` (bare or ``.last``), and
  ``unexpected_exit``.

Cost: the samples are kept as float arrays (24 B per sample for 24 h at 1 Hz: 2 MiB) and longer
series are reduced to at most ``MAX_POINTS`` block medians before the detector runs, so one
evaluation is bounded whatever the run's length (``benchmarks/bench_live_eval.py``).
"""

from __future__ import annotations

import logging
import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from soakctl.analyze.criteria import DEFAULT_CRITERIA, Criterion, parse_criterion
from soakctl.analyze.leak import detect_leak
from soakctl.analyze.windows import RECENT_CONFIDENCE
from soakctl.contracts import Event, ExitReason, Sample
from soakctl.errors import UsageError

if TYPE_CHECKING:
    from soakctl.runner import SoakRun

logger = logging.getLogger(__name__)

MIB = 1 << 20
MAX_POINTS = 6_000  # the detector buckets to ~200 anyway; this bounds the cost of getting there
ESTIMATE_AFTER_S = 120.0  # without abort_on_fail: the first estimate, then one a minute
ESTIMATE_EVERY_S = 60.0
CONFIRMATIONS = 2  # consecutive confident evaluations before an abort
# Before `after`, only an overwhelming leak may abort: its 99 % lower bound this many times the
# threshold (a bot leaking GiB per hour need not burn ten minutes to prove it).
EARLY_FACTOR = 10.0
# Sen's interval is a normal-quantile rank interval: its half-width scales with z.
_Z95, _Z99 = 1.959964, 2.575829

_INCREASING = ("max", "increase")  # aggregates that never go down as samples arrive
_COUNTERS = ("restarts", "liveness_failures")  # sample fields that never go down


def num(value: float) -> str:
    """3 significant digits, without exponents for rates people read (3620, not 3.62e+03)."""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


@dataclass
class LiveDecision:
    estimate: dict[str, Any] | None = None
    leak_first_seen: bool = False
    abort_reason: str | None = None


@dataclass
class _Tracker:
    """Running value of one monotone criterion's left-hand side."""

    crit: Criterion
    direction: int  # +1 never decreases, -1 never increases
    value: float | None = None
    prev: float | None = None  # for increase: the previous raw value

    def update(self, raw: float) -> None:
        agg = self.crit.agg
        if agg == "increase":
            if self.prev is not None:
                step = raw - self.prev
                self.value = (self.value or 0.0) + (step if step >= 0 else raw)
            elif self.value is None:
                self.value = 0.0
            self.prev = raw
        elif agg == "min":
            self.value = raw if self.value is None else min(self.value, raw)
        else:  # max, or a counter's last value
            self.value = raw if self.value is None else max(self.value, raw)

    def final_failure(self) -> bool:
        """True when the criterion fails now and no later sample can make it pass."""
        if self.value is None:
            return False
        v, n, op = self.value, self.crit.number, self.crit.op
        if self.direction > 0:
            return (op == "<" and v >= n) or (op in ("<=", "==") and v > n)
        return (op == ">" and v <= n) or (op in (">=", "==") and v < n)


def _monotone(crit: Criterion) -> int:
    if crit.series == "unexpected_exit":
        return 1
    if crit.agg in _INCREASING:
        return 1
    if crit.agg == "min":
        return -1
    if crit.series in _COUNTERS and crit.agg in (None, "last"):
        return 1
    return 0


def monotone_criteria(texts: list[str]) -> list[Criterion]:
    """The defaults and ``texts`` that can fail for good during a run (bad ones are skipped:
    the final analysis reports them)."""
    out: dict[str, Criterion] = {}
    for source, group in (("default", list(DEFAULT_CRITERIA)), ("profile", texts)):
        for text in group:
            try:
                crit = parse_criterion(text, source)
            except UsageError:
                continue
            if _monotone(crit):
                out[crit.expr] = crit
    return list(out.values())


class _Columns:
    """ts, rss and restarts, appended per sample to ``array('d')`` (a C double each, amortised
    O(1); a numpy element store per sample costs several times more) and turned into numpy
    arrays only when an evaluation is due."""

    def __init__(self) -> None:
        self.ts = array("d")
        self.rss = array("d")
        self.restarts = array("d")

    @property
    def n(self) -> int:
        return len(self.ts)

    def add(self, ts: float, rss: float, restarts: float) -> None:
        self.ts.append(ts)
        self.rss.append(rss)
        self.restarts.append(restarts)

    def reduced(self, max_points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self.n
        t, y, r = (np.array(a, dtype=np.float64) for a in (self.ts, self.rss, self.restarts))
        if n <= max_points:
            return t, y, r
        # Block medians of whole blocks (the newest partial block kept as is): the detector's
        # own first step is per-bucket medians, so this changes cost, not the answer's nature.
        k = math.ceil(n / max_points)
        whole = (n // k) * k

        def blocks(a: np.ndarray, fn: Callable[..., np.ndarray]) -> np.ndarray:
            return np.concatenate([fn(a[:whole].reshape(-1, k), axis=1), a[whole:]])

        return blocks(t, np.median), blocks(y, np.median), blocks(r, np.max)


@dataclass
class LiveEvaluator:
    """Feed with :meth:`add`; call :meth:`evaluate` when :meth:`due` says so."""

    criteria: list[str] = field(default_factory=list)
    threshold_mib_per_h: float = 10.0
    abort: bool = False
    after_s: float = ESTIMATE_AFTER_S
    every_s: float = ESTIMATE_EVERY_S
    unexpected_exit: Callable[[], bool] = lambda: False
    evaluations: int = 0
    _cols: _Columns = field(default_factory=_Columns)
    _trackers: list[_Tracker] = field(default_factory=list)
    _next_s: float = 0.0
    _confident_in_a_row: int = 0
    _leak_seen: bool = False
    _t0: float | None = None

    def __post_init__(self) -> None:
        self._trackers = [_Tracker(c, _monotone(c)) for c in monotone_criteria(self.criteria)]
        # What each tracker reads from a sample: (tracker, key, whether under "metrics"), worked
        # out once (add() runs every sample, on cold caches at 1 Hz).
        self._feeds = [
            (tr, name[8:], True) if name.startswith("metrics.") else (tr, name, False)
            for tr in self._trackers if (name := tr.crit.series) != "unexpected_exit"]
        self._feeds_metrics = any(in_metrics for _, _, in_metrics in self._feeds)
        # One schedule for the estimate and the abort rule: the earlier start, the shorter step.
        self._step_s = min(self.every_s, ESTIMATE_EVERY_S)
        self._next_s = min(self.after_s, ESTIMATE_AFTER_S)

    def add(self, sample: Sample) -> None:
        ts, rss = sample.get("ts"), sample.get("rss_bytes")
        if isinstance(ts, int | float) and isinstance(rss, int | float):
            if self._t0 is None:
                self._t0 = float(ts)
            self._cols.add(ts, rss, sample.get("restarts") or 0)  # array("d") makes them floats
        if not self._feeds:
            return
        metrics = (sample.get("metrics") or {}) if self._feeds_metrics else {}
        for tr, key, in_metrics in self._feeds:
            raw = metrics.get(key) if in_metrics else sample.get(key)
            if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
                tr.update(float(raw))

    def elapsed_s(self) -> float:
        if self._t0 is None or self._cols.n == 0:
            return 0.0
        return self._cols.ts[-1] - self._t0

    def due(self) -> bool:
        return self.elapsed_s() >= self._next_s

    def evaluate(self) -> LiveDecision:
        elapsed = self.elapsed_s()
        while self._next_s <= elapsed:
            self._next_s += self._step_s
        self.evaluations += 1
        decision = LiveDecision(estimate=self._estimate())
        est = decision.estimate
        if est is not None and est["status"] == "leak" and not self._leak_seen:
            self._leak_seen = decision.leak_first_seen = True
        if not self.abort:
            return decision
        if est is not None and est["confident"] and (
                elapsed >= self.after_s
                or est["lo99_mib_per_hour"] >= EARLY_FACTOR * self.threshold_mib_per_h):
            self._confident_in_a_row += 1
        else:
            self._confident_in_a_row = 0
        if self._confident_in_a_row >= CONFIRMATIONS:
            assert est is not None
            decision.abort_reason = (
                f"RSS leak {num(est['slope_mib_per_hour'])} MiB/h over the {est['window']} "
                f"window: above {self.threshold_mib_per_h:g} MiB/h at "
                f"{RECENT_CONFIDENCE:.0%} confidence (lower bound "
                f"{num(est['lo99_mib_per_hour'])} MiB/h) in {CONFIRMATIONS} evaluations in a row"
            )
            return decision
        for tr in self._trackers:
            if tr.crit.series == "unexpected_exit":
                tr.value = float(self.unexpected_exit())
            if tr.final_failure():
                decision.abort_reason = (
                    f"criterion {tr.crit.expr} failed and cannot recover "
                    f"({tr.crit.key} = {tr.value:.6g})"
                )
                return decision
        return decision

    def _estimate(self) -> dict[str, Any] | None:
        t, y, r = self._cols.reduced(MAX_POINTS)
        if t.size < 8:
            return None
        res = detect_leak("rss_bytes", t, y, self.threshold_mib_per_h * MIB, r,
                          scale=1 / MIB, unit="MiB")
        if res.slope_per_h is None or res.ci_per_h is None:
            return {"series": "rss_bytes", "slope_mib_per_hour": None,
                    "ci_mib_per_hour": [None, None], "status": res.status, "window": res.window,
                    "confident": False, "elapsed_s": round(self.elapsed_s(), 3),
                    "reason": res.reason}
        slope, lo, hi = res.slope_per_h, res.ci_per_h[0], res.ci_per_h[1]
        # The steady window is judged at 95 %; an abort wants the recent windows' 99 %.
        lo99 = lo if res.window != "steady" else slope - (slope - lo) * _Z99 / _Z95
        return {
            "series": "rss_bytes",
            "slope_mib_per_hour": round(slope / MIB, 6),
            "ci_mib_per_hour": [round(lo / MIB, 6), round(hi / MIB, 6)],
            "status": res.status,
            "window": res.window,
            "lo99_mib_per_hour": round(lo99 / MIB, 6),
            "confident": res.status == "leak" and lo99 > res.threshold_per_h,
            "elapsed_s": round(self.elapsed_s(), 3),
            "reason": res.reason,
        }


# -- the run-loop hooks (kept here so soakctl.runner stays a few lines) ---------------------------
def start_live(run: SoakRun) -> LiveEvaluator:
    abort = run.profile.abort_on_fail
    live = LiveEvaluator(
        criteria=[c for c in run.profile.criteria if isinstance(c, str)],
        abort=abort is not None,
        after_s=abort.after_s if abort is not None else ESTIMATE_AFTER_S,
        every_s=abort.every_s if abort is not None else ESTIMATE_EVERY_S,
        unexpected_exit=lambda: run._unexpected_exit,
    )
    if abort is not None:
        run._meta["abort_on_fail"] = {"after_s": abort.after_s, "every_s": abort.every_s}
    return live


def after_sample(run: SoakRun, live: LiveEvaluator, sample: Sample) -> None:
    """Feed the sample; at the cadence, publish the estimate and stop the run if it must."""
    live.add(sample)
    if not live.due() or run._stop.is_set():
        return
    try:
        decision = live.evaluate()
    except Exception:  # the live estimate must never end a 24 h run
        logger.exception("live evaluation failed")
        return
    if decision.estimate is not None:
        publish = getattr(run.observer, "on_leak_estimate", None)
        if publish is not None:
            publish(dict(decision.estimate))
    if decision.leak_first_seen:
        est = decision.estimate or {}
        run._emit(Event.LEAK_SUSPECTED, "target", slope_mib_per_hour=est.get("slope_mib_per_hour"),
                  ci_mib_per_hour=est.get("ci_mib_per_hour"))
        if run._diagnose is not None:
            run._diagnose.moment("leak")
    if decision.abort_reason is not None:
        aborted_at = round(run.clock.time(), 3)
        run._meta.update({"abort_reason": decision.abort_reason, "aborted_at": aborted_at})
        run._emit(Event.ABORT, "soakctl", reason=decision.abort_reason,
                  elapsed_s=round(live.elapsed_s(), 3))
        run.request_stop(ExitReason.ABORTED)
