"""Backoff in fake time: the formula, jitter bounds, cap, reset, max attempts; and the
stream's reconnect loop against a port that refuses connections, on a fake clock."""

from __future__ import annotations

import asyncio
import random
import socket

import pytest

from bot.backoff import Backoff, MaxAttemptsReached
from bot.clock import FakeClock
from bot.config import WsConfig
from bot.errors import StreamFatalError
from bot.metrics import BotMetrics
from bot.venues.stream import WsStream


def test_formula_and_jitter_bounds() -> None:
    backoff = Backoff(base_s=1.0, max_s=60.0, jitter=0.3, rng=random.Random(7))
    for attempt in range(10):
        delay = backoff.next_delay()
        raw = 2.0**attempt
        assert min(raw, 60.0) <= delay <= min(raw * 1.3, 60.0)
        assert backoff.bounds(attempt) == (min(raw, 60.0), min(raw * 1.3, 60.0))


def test_jitter_spreads_delays() -> None:
    delays = {Backoff(rng=random.Random(seed)).next_delay() for seed in range(20)}
    assert len(delays) > 10 and all(1.0 <= d <= 1.3 for d in delays)


def test_reset_and_max_attempts() -> None:
    backoff = Backoff(base_s=0.5, max_s=10, jitter=0, max_attempts=3)
    assert [backoff.next_delay() for _ in range(3)] == [0.5, 1.0, 2.0]
    with pytest.raises(MaxAttemptsReached):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.5


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_stream_gives_up_after_max_attempts_in_fake_time() -> None:
    clock = FakeClock()
    metrics = BotMetrics()
    cfg = WsConfig(
        backoff_base_s=1, backoff_max_s=8, backoff_jitter=0.3, max_attempts=5, connect_timeout_s=2
    )
    stream = WsStream(
        f"ws://127.0.0.1:{_refused_port()}/x", cfg, metrics, clock=clock, rng=random.Random(1)
    )

    async def go() -> None:
        with pytest.raises(StreamFatalError):
            await stream.run(asyncio.Event())

    asyncio.run(go())
    assert len(stream.delays_s) == 5
    for attempt, delay in enumerate(stream.delays_s):
        low, high = stream.backoff.bounds(attempt)
        assert low <= delay <= high
    assert clock.sleeps == list(stream.delays_s)  # all waiting happened in fake time
    text = metrics.render().decode()
    assert 'ws_reconnect_attempts_total{exchange="bybit",ws_type="public"} 5.0' in text
    assert 'ws_max_reconnect_reached_total{exchange="bybit",ws_type="public"} 1.0' in text


def test_token_bucket_in_fake_time() -> None:
    from bot.ratelimit import TokenBucket

    clock = FakeClock()
    bucket = TokenBucket(10, clock)
    assert [bucket.take() for _ in range(10)] == [0.0] * 10
    assert bucket.take() == pytest.approx(0.1)  # the 11th waits one token's time
    clock.advance(1.0)
    assert bucket.take() == 0.0
