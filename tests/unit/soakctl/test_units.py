"""Durations and sizes: the forms docs/cli.md §3 and §7 promise, and clear errors for the rest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soakctl.units import format_duration, parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("2h", 7200),
        ("1h30m", 5400),
        ("45", 45),
        ("1.5h", 5400),
        ("500ms", 0.5),
        ("1d", 86400),
        (" 2h 5m ", 7500),
        (12, 12.0),
    ],
)
def test_parse_duration_accepts_spec_forms(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["fast", "", "h", "1x", "-5", "1h-3m", "nan", "inf"])
def test_parse_duration_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("50MB", 50_000_000),
        ("1MiB", 1 << 20),
        ("1GB", 10**9),
        ("4096", 4096),
        ("512k", 512_000),
        ("2KiB", 2048),
        ("10b", 10),
        (7, 7),
    ],
)
def test_parse_size(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["big", "1PB", "-1", "MB"])
def test_parse_size_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


@given(st.integers(min_value=0, max_value=10 * 86400))
def test_format_then_parse_round_trips_whole_seconds_over_a_minute(seconds: int) -> None:
    text = format_duration(seconds)
    back = parse_duration(text)
    # Hours drop the seconds part: the display rounds, never by more than a minute.
    assert abs(back - seconds) < 60
