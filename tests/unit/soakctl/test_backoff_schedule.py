"""Backoff and sampling schedule in fake time: the formula, the cap, the reset, no drift."""

from __future__ import annotations

import itertools
import os
import random
import threading
from pathlib import Path

import pytest

from soakctl.backoff import ExponentialBackoff
from soakctl.clock import FakeClock
from soakctl.monitor import monitor_pid
from soakctl.procfs import ProcReading


def test_backoff_follows_formula_with_bounded_jitter() -> None:
    backoff = ExponentialBackoff(base_s=1.0, max_s=60.0, jitter=0.3, rng=random.Random(7))
    for attempt in range(10):
        raw = 2.0**attempt
        delay = backoff.next_delay()
        assert min(raw, 60.0) <= delay <= min(raw * 1.3, 60.0)
    assert backoff.attempt == 10


def test_backoff_without_jitter_is_exact_and_capped() -> None:
    backoff = ExponentialBackoff(base_s=0.5, max_s=5.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_backoff_resets_after_a_healthy_stretch_only() -> None:
    backoff = ExponentialBackoff(base_s=1.0, jitter=0.0, reset_after_s=60.0)
    backoff.next_delay()
    backoff.next_delay()
    backoff.observe_runtime(59.0)
    assert backoff.attempt == 2
    backoff.observe_runtime(60.0)
    assert backoff.attempt == 0
    assert backoff.next_delay() == 1.0


def test_backoff_jitter_spreads_delays() -> None:
    delays = {ExponentialBackoff(jitter=0.3, rng=random.Random(s)).next_delay() for s in range(50)}
    assert len(delays) > 40 and min(delays) >= 1.0 and max(delays) <= 1.3


class SlowReader:
    """A reader over the real /proc that costs ``cost_s`` of fake time per tree refresh."""

    def __init__(self, clock: FakeClock, cost_s: float) -> None:
        from soakctl.procfs import default_reader

        self._real = default_reader()
        self._clock = clock
        self.cost_s = cost_s

    def read(self, pid: int) -> ProcReading | None:
        if pid == os.getpid():
            self._clock.advance(self.cost_s)
        return self._real.read(pid)

    def children(self, pid: int, num_threads: int = 0) -> list[int]:
        return []

    def num_fds(self, pid: int) -> int | None:
        return self._real.num_fds(pid)

    def io_bytes(self, pid: int) -> tuple[int, int] | None:
        return self._real.io_bytes(pid)

    def fds_io_totals(self, pids: list[int]) -> tuple[int, int, int]:
        return self._real.fds_io_totals(pids)

    def uss_bytes(self, pid: int) -> int | None:
        return None

    def sys_cpu_times(self) -> tuple[float, float]:
        return self._real.sys_cpu_times()

    def sys_mem_available(self) -> int:
        return self._real.sys_mem_available()

    def spawn_marker(self) -> bytes | None:
        return None


@pytest.mark.parametrize("cost_s", [0.0, 0.3])
def test_schedule_has_no_drift_in_fake_time(tmp_path: Path, cost_s: float) -> None:
    clock = FakeClock()
    reader = SlowReader(clock, cost_s)
    out = tmp_path / "s.jsonl"
    result = monitor_pid(
        os.getpid(),
        out,
        interval_s=1.0,
        duration_s=600.0,
        clock=clock,
        reader=reader,
        stop=threading.Event(),
    )
    assert result.reason == "duration_reached"
    import json

    elapsed = [json.loads(line)["elapsed_s"] for line in out.read_text().splitlines()]
    # Work inside a sample never pushes the next one later: samples stay on the 1 s grid.
    assert len(elapsed) == 600
    for k, value in enumerate(elapsed):
        assert k * 1.0 <= value <= k * 1.0 + cost_s * 2 + 1e-6


def test_schedule_skips_missed_slots_instead_of_bunching(tmp_path: Path) -> None:
    clock = FakeClock()
    reader = SlowReader(clock, 2.5)  # each sample takes 2.5 intervals
    out = tmp_path / "s.jsonl"
    monitor_pid(os.getpid(), out, interval_s=1.0, duration_s=30.0, clock=clock, reader=reader)
    import json

    elapsed = [json.loads(line)["elapsed_s"] for line in out.read_text().splitlines()]
    gaps = [b - a for a, b in itertools.pairwise(elapsed)]
    assert all(gap >= 2.5 for gap in gaps)  # never two samples back to back to catch up
    assert len(elapsed) <= 11
