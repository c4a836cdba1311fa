"""The ``increase`` aggregate: a counter's growth, last minus first, counter resets handled."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from soakctl.analyze.criteria import increase, parse_criterion

counts = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=200)


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=200))
def test_monotone_counter_is_last_minus_first(steps: list[int]) -> None:
    values = np.cumsum(np.array(steps, dtype=float))
    assert increase(values) == values[-1] - values[0]


@given(counts, counts)
def test_a_reset_counts_the_new_value_whole(before: list[int], after: list[int]) -> None:
    # Two incarnations of a process, each with a monotone counter starting at its own value;
    # the second starts below where the first ended (a restart).
    first = np.cumsum(np.array(before, dtype=float))
    second = np.cumsum(np.array(after, dtype=float))
    if second[0] >= first[-1]:
        return  # not a reset
    joined = np.concatenate([first, second])
    expected = (first[-1] - first[0]) + second[-1]
    assert increase(joined) == expected


@given(st.lists(st.one_of(st.floats(min_value=0, max_value=1e12), st.just(math.nan)), max_size=100))
def test_never_negative_and_ignores_missing(values: list[float]) -> None:
    arr = np.array(values, dtype=float)
    got = increase(arr)
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        assert got is None
    else:
        assert got is not None and got >= 0 and math.isfinite(got)
        # Resets only add (up to float rounding of the summed steps).
        assert got >= finite[-1] - finite[0] - 1e-9 * max(1.0, float(finite.max()))


def test_examples() -> None:
    assert increase(np.array([5.0])) == 0.0
    assert increase(np.array([1.0, 3.0, 0.0, 2.0])) == 2.0 + 0.0 + 2.0
    assert increase(np.array([np.nan, 10.0, np.nan, 12.0])) == 2.0
    assert increase(np.array([np.nan])) is None


def test_parses_as_an_aggregate() -> None:
    crit = parse_criterion("metrics.mmbot_orders_total.increase > 0")
    assert (crit.series, crit.agg, crit.op) == ("metrics.mmbot_orders_total", "increase", ">")
