"""The criteria language: strict parsing (examples and Hypothesis properties) and evaluation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soakctl.analyze.criteria import (
    AGGREGATES,
    DEFAULT_CRITERIA,
    OPERATORS,
    SAMPLE_SERIES,
    SCALARS,
    Criterion,
    evaluate,
    parse_all,
    parse_criterion,
)
from soakctl.errors import UsageError


@pytest.mark.parametrize(
    ("text", "series", "agg", "op", "number"),
    [
        ("rss_slope_mib_per_hour < 10", "rss_slope_mib_per_hour", None, "<", 10.0),
        ("cpu_percent.avg < 80", "cpu_percent", "avg", "<", 80.0),
        ("zombies.max == 0", "zombies", "max", "==", 0.0),
        ("restarts <= 0", "restarts", None, "<=", 0.0),
        ("num_fds.slope_per_hour < 50", "num_fds", "slope_per_hour", "<", 50.0),
        ("metrics.mmbot_open_orders.last == 0", "metrics.mmbot_open_orders", "last", "==", 0.0),
        ("metrics.a:b_c>=-1.5e3", "metrics.a:b_c", None, ">=", -1500.0),
        ("  leak_conclusive==1 ", "leak_conclusive", None, "==", 1.0),
        ("rss_bytes.p99 != .5", "rss_bytes", "p99", "!=", 0.5),
    ],
)
def test_spec_examples_parse(
    text: str, series: str, agg: str | None, op: str, number: float
) -> None:
    c = parse_criterion(text)
    assert (c.series, c.agg, c.op, c.number) == (series, agg, op, number)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "expected SERIES"),
        ("cpu_percent.avg", "expected SERIES"),
        ("cpu_percent.avg < ", "expected SERIES"),
        ("cpu_percent.avg << 3", "expected SERIES"),
        ("cpu_percent.avg < 80 MB", "expected SERIES"),
        ("cpu_percent.mean < 80", "unknown aggregate"),
        ("cpu_pct.avg < 80", "unknown series"),
        ("leak_detected.max == 0", "takes no"),
        ("metrics < 3", "unknown series"),
        ("cpu_percent.avg < nan", "expected SERIES"),
        ("cpu_percent.avg < 1e999", "finite"),
    ],
)
def test_malformed_or_unknown_is_a_usage_error(text: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        parse_criterion(text)


def test_defaults_parse_and_later_sources_replace_duplicates() -> None:
    crits = parse_all(DEFAULT_CRITERIA, ["cpu_percent.avg < 80"], ["zombies.max == 0"])
    by_expr = {c.expr: c.source for c in crits}
    assert by_expr["cpu_percent.avg < 80"] == "profile"
    assert by_expr["zombies.max == 0"] == "cli"
    assert len(crits) == len(DEFAULT_CRITERIA)


class _Values:
    def __init__(self, values: dict[str, float | None]) -> None:
        self.values = values

    def value(self, series: str, agg: str | None) -> float | None:
        return self.values.get(f"{series}.{agg}" if agg else series)


def test_evaluate_pass_fail_and_missing_data() -> None:
    src = _Values({"cpu_percent.avg": 12.0})
    ok = evaluate(parse_criterion("cpu_percent.avg < 80"), src)
    assert ok["ok"] and ok["status"] == "pass" and ok["value"] == 12.0
    bad = evaluate(parse_criterion("cpu_percent.avg < 10"), src)
    assert not bad["ok"] and bad["status"] == "fail"
    user = evaluate(parse_criterion("zombies.max == 0"), src)
    assert user["status"] == "fail" and "no data" in user["message"]
    default = evaluate(parse_criterion("zombies.max == 0", source="default"), src)
    assert default["status"] == "skip" and default["ok"]


# --- properties -------------------------------------------------------------------------------

_series = st.one_of(
    st.sampled_from(SAMPLE_SERIES),
    st.from_regex(r"metrics\.[a-z_][a-z0-9_:]{0,20}", fullmatch=True),
)
_numbers = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(
    series=_series,
    agg=st.none() | st.sampled_from(AGGREGATES),
    op=st.sampled_from(list(OPERATORS)),
    number=_numbers,
    spaces=st.sampled_from(["", " ", "  "]),
)
def test_well_formed_expressions_round_trip(
    series: str, agg: str | None, op: str, number: float, spaces: str
) -> None:
    text = f"{series}{'.' + agg if agg else ''}{spaces}{op}{spaces}{number!r}"
    c = parse_criterion(text)
    assert (c.series, c.agg, c.op) == (series, agg, op)
    assert c.number == number
    assert parse_criterion(c.expr) == c  # the normalised form parses to the same criterion


@given(st.sampled_from(list(SCALARS)), st.sampled_from(list(OPERATORS)), _numbers)
def test_scalars_parse_without_aggregate(series: str, op: str, number: float) -> None:
    assert parse_criterion(f"{series} {op} {number!r}").agg is None


@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        c = parse_criterion(text)
    except UsageError as exc:
        assert "\n" not in str(exc)  # one line, whatever the input
        return
    assert isinstance(c, Criterion)
    assert c.op in OPERATORS
    assert math.isfinite(c.number)


@given(series=_series, op=st.sampled_from(list(OPERATORS)), number=_numbers, value=_numbers)
def test_evaluation_agrees_with_python_operators(
    series: str, op: str, number: float, value: float
) -> None:
    c = parse_criterion(f"{series} {op} {number!r}")
    row = evaluate(c, _Values({series: value}))
    assert row["ok"] is OPERATORS[op](value, number)
