"""Live evaluation: the abort rule (a confirmed leak, a criterion that cannot recover), its
cadence, and the property that an early "cannot recover" is never contradicted by the end."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from soakctl.analyze.criteria import OPERATORS, increase, parse_criterion
from soakctl.live_eval import MAX_POINTS, LiveEvaluator, _Columns, _monotone, _Tracker

MIB = 1 << 20
T0 = 1_780_000_000.0


def _feed(live: LiveEvaluator, rss_mib: np.ndarray, **extra: object) -> list[str]:
    """Feed 1 Hz samples; return the abort reasons in the order they came."""
    reasons = []
    for i, value in enumerate(rss_mib):
        live.add({"ts": T0 + i, "rss_bytes": int(value * MIB), "restarts": 0, **extra})
        if live.due():
            decision = live.evaluate()
            if decision.abort_reason:
                reasons.append(decision.abort_reason)
                break
    return reasons


def test_a_fast_leak_aborts_after_two_confident_evaluations() -> None:
    rng = np.random.default_rng(1)
    n = 1200
    rss = 50 + np.arange(n) * (600 / 3600) + rng.normal(0, 0.05, n)  # 600 MiB/h
    live = LiveEvaluator(abort=True, after_s=120, every_s=60)
    reasons = _feed(live, rss)
    assert reasons and "RSS leak" in reasons[0]
    assert live.evaluations == 2  # the first two evaluations confirm it; no more are needed


def test_flat_noisy_memory_never_aborts_and_estimates_no_leak() -> None:
    rng = np.random.default_rng(2)
    n = 3600
    rss = 50 + rng.normal(0, 0.3, n) + 1.0 * ((np.arange(n) % 120) / 120)  # sawtooth
    live = LiveEvaluator(abort=True, after_s=120, every_s=60)
    assert _feed(live, rss) == []
    estimate = live.evaluate().estimate
    assert estimate is not None and estimate["status"] in ("no_leak", "inconclusive")
    assert set(estimate) >= {"series", "slope_mib_per_hour", "ci_mib_per_hour", "status"}


def test_without_abort_on_fail_it_only_estimates() -> None:
    n = 1200
    rss = 50 + np.arange(n) * (600 / 3600)
    live = LiveEvaluator(abort=False, after_s=120, every_s=60)
    assert _feed(live, rss) == []
    assert live.evaluations > 2


def test_a_zombie_aborts_at_the_first_evaluation_after_it() -> None:
    live = LiveEvaluator(abort=True, after_s=60, every_s=30)
    for i in range(200):
        live.add({"ts": T0 + i, "rss_bytes": 50 * MIB, "zombies": 1 if i == 100 else 0})
        if live.due():
            reason = live.evaluate().abort_reason
            if reason:
                assert "zombies.max == 0" in reason and i >= 100
                return
    raise AssertionError("no abort")


def test_only_monotone_criteria_are_tracked() -> None:
    def mono(text: str) -> int:
        return _monotone(parse_criterion(text))

    assert mono("zombies.max == 0") == 1
    assert mono("restarts <= 0") == 1
    assert mono("liveness_failures == 0") == 1
    assert mono("metrics.x_total.increase < 5") == 1
    assert mono("num_fds.min > 3") == -1
    assert mono("unexpected_exit == 0") == 1
    assert mono("cpu_percent.avg < 80") == 0
    assert mono("rss_bytes < 100") == 0  # a gauge's last value can come back
    assert mono("num_fds.slope_per_hour < 5") == 0


def test_reduction_bounds_the_points() -> None:
    cols = _Columns()
    for i in range(5 * MAX_POINTS + 7):
        cols.add(T0 + i, float(i), 0.0)
    t, y, _r = cols.reduced(MAX_POINTS)
    assert t.size <= MAX_POINTS + 5 and np.all(np.diff(t) > 0)
    assert y[-1] == 5 * MAX_POINTS + 6  # the newest sample is kept


aggs = st.sampled_from(["max", "min", "increase"])
ops = st.sampled_from(list(OPERATORS))


@given(st.lists(st.integers(0, 20), min_size=1, max_size=60), aggs, ops, st.integers(0, 20),
       st.integers(1, 60))
def test_cannot_recover_is_never_contradicted(values: list[int], agg: str, op: str,
                                                number: int, cut: int) -> None:
    crit = parse_criterion(f"num_fds.{agg} {op} {number}")
    tracker = _Tracker(crit, _monotone(crit))
    arr = np.array(values, dtype=float)
    prefix = arr[: min(cut, arr.size)]
    for v in prefix:
        tracker.update(float(v))
    full = {"max": arr.max(), "min": arr.min(), "increase": increase(arr)}[agg]
    now = {"max": prefix.max(), "min": prefix.min(), "increase": increase(prefix)}[agg]
    assert tracker.value == now
    if tracker.final_failure():
        assert not OPERATORS[op](full, float(number))  # whatever came later, it failed


def test_before_after_only_an_overwhelming_leak_aborts() -> None:
    rng = np.random.default_rng(3)
    n = 900
    t = np.arange(n)
    big = LiveEvaluator(abort=True, after_s=600, every_s=120)  # the defaults
    reasons = _feed(big, 50 + t * (3600 / 3600) + rng.normal(0, 0.05, n))  # 3600 MiB/h
    assert reasons and big.elapsed_s() < 600  # stopped well before `after`
    modest = LiveEvaluator(abort=True, after_s=600, every_s=120)
    reasons = _feed(modest, 50 + t * (30 / 3600) + rng.normal(0, 0.01, n))  # 30 MiB/h
    assert reasons and modest.elapsed_s() >= 600  # confirmed only from `after` on
