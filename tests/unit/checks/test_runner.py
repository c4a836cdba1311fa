"""The runner: concurrency, per-check timeouts, crashes as results, order kept."""

from __future__ import annotations

import threading
import time

import pytest

from checks.base import Check, CheckResult, Outcome, Status
from checks.context import CheckContext
from checks.runner import run_checks
from tests.unit.checks.conftest import MakeContext


class Passing(Check):
    name = "passing"
    description = "always passes"

    def run(self, ctx: CheckContext) -> Outcome:
        return Outcome.ok("fine", answer=42)


class Crashing(Check):
    name = "crashing"
    description = "raises"

    def run(self, ctx: CheckContext) -> Outcome:
        raise RuntimeError("boom")


class WrongType(Check):
    name = "wrong-type"
    description = "returns a string"

    def run(self, ctx: CheckContext) -> Outcome:
        return "pass"  # type: ignore[return-value]


class Hanging(Check):
    name = "hanging"
    description = "waits until released"
    timeout_s = 0.3

    def __init__(self) -> None:
        self.release = threading.Event()

    def run(self, ctx: CheckContext) -> Outcome:
        self.release.wait(60)
        return Outcome.ok("released")


class Meeting(Check):
    """Passes only if all instances run at the same time (a barrier across threads)."""

    description = "concurrency probe"
    timeout_s = 20.0

    def __init__(self, name: str, barrier: threading.Barrier) -> None:
        self.name = name  # type: ignore[misc]
        self.barrier = barrier

    def run(self, ctx: CheckContext) -> Outcome:
        self.barrier.wait(timeout=15)
        return Outcome.ok("met")


@pytest.fixture
def ctx(make_ctx: MakeContext) -> CheckContext:
    return make_ctx()


def test_crash_and_bad_return_become_fail_and_order_is_kept(ctx: CheckContext) -> None:
    results = run_checks([Crashing(), Passing(), WrongType()], ctx)
    assert [r.name for r in results] == ["crashing", "passing", "wrong-type"]
    assert [r.status for r in results] == [Status.FAIL, Status.PASS, Status.FAIL]
    assert results[0].message == "check crashed: RuntimeError: boom"
    assert "not an Outcome" in results[2].message


def test_hanging_check_fails_at_its_deadline_and_others_finish(ctx: CheckContext) -> None:
    hanging = Hanging()
    seen: list[CheckResult] = []
    started = time.monotonic()
    try:
        results = run_checks([hanging, Passing()], ctx, on_result=seen.append)
    finally:
        hanging.release.set()
    elapsed = time.monotonic() - started
    assert results[0].status is Status.FAIL
    assert results[0].message == "timed out after 0.3s"
    assert results[1].status is Status.PASS
    assert elapsed < 10  # bounded by the 0.3 s timeout, not the 60 s wait
    assert {r.name for r in seen} == {"hanging", "passing"}


def test_checks_run_concurrently(ctx: CheckContext) -> None:
    barrier = threading.Barrier(4)
    results = run_checks([Meeting(f"meet-{i}", barrier) for i in range(4)], ctx)
    assert all(r.status is Status.PASS for r in results), results


def test_result_json_shape(ctx: CheckContext) -> None:
    (result,) = run_checks([Passing()], ctx)
    data = result.to_json()
    assert set(data) == {"name", "status", "message", "duration_s", "details"}
    assert data["status"] == "pass"
    assert data["details"] == {"answer": 42}
    failing = CheckResult(
        name="x", status=Status.FAIL, message="m", duration_s=0.1, fix="do this"
    ).to_json()
    assert failing["fix"] == "do this"
    assert "details" not in failing
