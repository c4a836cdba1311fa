"""``soakctl plan --leak RATE``: the rate parser (property-tested)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soakctl.cli.plan_cmd import parse_rate
from soakctl.errors import UsageError

UNITS = {"B": 1, "KiB": 1024, "MiB": 1 << 20, "GiB": 1 << 30, "KB": 1000, "MB": 10**6,
         "GB": 10**9}
PER_HOUR = {"s": 3600.0, "min": 60.0, "h": 1.0, "d": 1 / 24}


@given(st.integers(1, 10**6), st.sampled_from(sorted(UNITS)), st.sampled_from(sorted(PER_HOUR)),
       st.sampled_from(["", " "]))
def test_rates_in_bytes_per_hour(n: int, unit: str, per: str, space: str) -> None:
    text = f"{n}{space}{unit}{space}/{space}{per}"
    assert parse_rate(text) == pytest.approx(n * UNITS[unit] * PER_HOUR[per])


@given(st.text(max_size=12).filter(lambda s: "/" not in s))
def test_anything_without_a_time_unit_is_rejected(text: str) -> None:
    with pytest.raises(UsageError, match="--leak"):
        parse_rate(text)


@pytest.mark.parametrize("text", ["0MiB/h", "MiB/h", "20MiB/week", "20 parsecs/h", "-5MiB/h",
                                  "20MiB/", "/h"])
def test_bad_rates(text: str) -> None:
    with pytest.raises(UsageError, match="--leak"):
        parse_rate(text)
