"""Runs checks concurrently, each in its own daemon thread with its own deadline.

Checks are mostly waiting (sockets, subprocesses, ``stat``), so threads give the concurrency
without asking check authors to write asyncio. A thread cannot be killed: a check that
overruns its ``timeout_s`` is reported as ``fail`` at its deadline and left to finish in the
background (daemon threads never hold up the process exit). A check that raises is a ``fail``
naming the exception. Results come back in the order the checks were given; ``on_result`` is
called as each one is known, for live display.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from checks.base import Check, CheckResult, Outcome, Status
from checks.context import CheckContext

logger = logging.getLogger(__name__)

ResultObserver = Callable[[CheckResult], None]


def run_one(check: Check, ctx: CheckContext) -> CheckResult:
    """Run ``check`` in the calling thread; exceptions and bad return values become ``fail``."""
    started = time.perf_counter()
    try:
        outcome = check.run(ctx)
        if not isinstance(outcome, Outcome):
            outcome = Outcome.fail(
                f"check returned {type(outcome).__name__}, not an Outcome",
                fix="this is a bug in the check: report it to its author",
            )
    except Exception as exc:  # any bug in a check is its result, never the command's crash
        logger.debug("check %s crashed", check.name, exc_info=True)
        outcome = Outcome.fail(
            f"check crashed: {type(exc).__name__}: {exc}",
            fix="this is a bug in the check: report it to its author",
        )
    return CheckResult.of(check.name, outcome, time.perf_counter() - started)


def _timed_out(check: Check, elapsed_s: float) -> CheckResult:
    return CheckResult(
        name=check.name,
        status=Status.FAIL,
        message=f"timed out after {check.timeout_s:g}s",
        duration_s=elapsed_s,
        fix="find out what the check is waiting for (network, disk, a hung subprocess)",
    )


def run_checks(
    checks: Sequence[Check],
    ctx: CheckContext,
    on_result: ResultObserver | None = None,
) -> list[CheckResult]:
    """Run every check concurrently and return their results in input order."""
    done: queue.SimpleQueue[tuple[int, CheckResult]] = queue.SimpleQueue()
    started: dict[int, float] = {}
    for index, check in enumerate(checks):
        worker = threading.Thread(
            target=lambda i=index, c=check: done.put((i, run_one(c, ctx))),
            name=f"check-{check.name}",
            daemon=True,
        )
        started[index] = time.monotonic()
        worker.start()

    results: dict[int, CheckResult] = {}
    while len(results) < len(checks):
        pending = [i for i in range(len(checks)) if i not in results]
        deadline = min(started[i] + checks[i].timeout_s for i in pending)
        try:
            index, result = done.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            now = time.monotonic()
            for i in pending:
                if now >= started[i] + checks[i].timeout_s:
                    results[i] = _timed_out(checks[i], now - started[i])
                    if on_result:
                        on_result(results[i])
            continue
        if index not in results:  # a late result of a timed-out check is dropped
            results[index] = result
            if on_result:
                on_result(result)
    return [results[i] for i in range(len(checks))]
