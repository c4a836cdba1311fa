"""Chunked bucketing gives exactly what one pass over the whole series gives: property tests.

``bucket_index`` and ``group_medians`` work through chunks of ``CHUNK`` samples (memory) and
sort small groups row-wise (speed); the references below are the one-pass definitions.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soakctl.analyze import trend
from soakctl.analyze.trend import bucket_index, bucket_medians, group_medians


def _reference_medians(y: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    group = np.repeat(np.arange(starts.size), counts)
    ys = y[np.lexsort((y, group))]
    out: np.ndarray = (ys[starts + (counts - 1) // 2] + ys[starts + counts // 2]) / 2.0
    return out


_VALUE = st.one_of(st.floats(-1e6, 1e6), st.just(float("nan")), st.just(float("inf")))


@settings(deadline=None, max_examples=200)
@given(
    counts=st.lists(st.one_of(st.integers(1, 5), st.integers(1, 200)), min_size=1, max_size=60),
    data=st.data(),
    chunk=st.sampled_from([4, 16, 1 << 16]),
)
def test_group_medians_match_one_lexsort(counts: list[int], data: st.DataObject, chunk: int
                                         ) -> None:
    n = sum(counts)
    y = np.array(data.draw(st.lists(_VALUE, min_size=n, max_size=n)), dtype=np.float64)
    c = np.array(counts)
    starts = np.r_[0, np.cumsum(c)[:-1]]
    group = np.repeat(np.arange(c.size) * 3, c)  # any non-decreasing labels
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(trend, "CHUNK", chunk)
        got = group_medians(y, group, starts, c)
    want = _reference_medians(y, starts, c)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)  # NaN where the reference has NaN


@settings(deadline=None, max_examples=200)
@given(
    t=st.lists(st.floats(0, 1e9), min_size=1, max_size=300).map(sorted),
    width=st.floats(1e-3, 1e6),
    chunk=st.sampled_from([3, 64, 1 << 16]),
)
def test_bucket_index_matches_one_pass(t: list[float], width: float, chunk: int) -> None:
    arr = np.array(t)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(trend, "CHUNK", chunk)
        got = bucket_index(arr, arr[0], width)
    want = np.floor((arr - arr[0]) / width).astype(np.int64)
    np.testing.assert_array_equal(got, want)


def test_a_long_regular_series_takes_chunks_and_matches_numpy_medians() -> None:
    gen = np.random.default_rng(5)
    t = np.arange(300_000, dtype=np.float64) + 1.78e9
    y = gen.normal(size=t.size)
    bt, bm, counts = bucket_medians(t, y, 50.0, float(t[0]))
    assert counts.sum() == t.size
    assert counts.size == 6000
    assert np.allclose(bm, np.median(y.reshape(-1, 50), axis=1))
    assert np.allclose(bt, t.reshape(-1, 50).mean(axis=1))


def test_one_crowded_bucket_among_small_ones_falls_back_to_the_lexsort() -> None:
    gen = np.random.default_rng(6)
    counts = np.array([3000] + [1] * 600 + [7] * 30)  # padding rows to 3000 would cost 1.9 M
    y = gen.normal(size=int(counts.sum()))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    got = group_medians(y, np.repeat(np.arange(counts.size), counts), starts, counts)
    np.testing.assert_array_equal(got, _reference_medians(y, starts, counts))
