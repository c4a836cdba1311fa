"""The run-directory contract, defined once: samples, events, ``run.json``, ``analysis.json``.

Prose: ``docs/run-files.md``. JSON Schema for other tools: ``docs/schemas/*.schema.json``,
generated from the types here by ``python -m soakctl.contracts`` (a test fails when the committed
files differ from what the code generates).

The types are ``TypedDict``s, so a record is a plain ``dict`` at run time: the sampler's hot path
builds and ``orjson``-encodes it with no validation or conversion cost, and mypy checks every
writer and reader against the same definition. Event names and exit reasons are ``StrEnum``s:
they serialise as their string values and compare equal to them.

How to add a field (or an event, or an exit reason):

1. add it here: a ``NotRequired[...]`` key on the record (``Sample``, ``RunJson``,
   ``AnalysisJson``...), a member of :class:`Event` / :class:`ExitReason`, and for an event a
   ``...Event`` TypedDict listed in ``EVENT_TYPES``;
2. write it where the record is built (mypy then accepts it);
3. regenerate the schemas: ``python -m soakctl.contracts`` and commit ``docs/schemas/``;
4. describe it in ``docs/run-files.md``.

Records are open: a reader ignores keys it does not know, and the schemas allow additional
properties, so a newer writer never breaks an older reader.

This module imports only the standard library (and ``typing_extensions``, which pydantic needs
for TypedDicts before Python 3.12); pydantic is imported only to generate the schemas.
"""


import sys
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, NotRequired, Required

from typing_extensions import TypedDict

SCHEMA_VERSION = 1


# -- resources.jsonl ------------------------------------------------------------------------
class Sample(TypedDict, total=False):
    """One line of ``resources.jsonl``: sums over the supervised process tree.

    Only ``ts`` and ``rss_bytes`` are required (``soakctl analyze`` accepts files carrying just
    those); ``uss_bytes`` is absent from samples where it was too costly to read.
    """

    ts: Required[float]
    elapsed_s: float
    name: str
    pid: int | None
    num_procs: int
    rss_bytes: Required[int]
    vms_bytes: int
    uss_bytes: int
    cpu_percent: float
    num_threads: int
    num_fds: int
    zombies: int
    io_read_bytes: int
    io_write_bytes: int
    sys_cpu_percent: float
    sys_mem_available_bytes: int
    disk_free_bytes: int
    log_bytes: int
    restarts: int
    liveness_failures: int  # failed liveness probes so far (cumulative), with liveness set
    metrics: dict[str, float]


SAMPLE_REQUIRED: tuple[str, ...] = ("ts", "rss_bytes")
# Every numeric field of a sample (all non-negative); ``metrics`` is a nested object.
SAMPLE_NUMERIC: tuple[str, ...] = tuple(k for k in Sample.__annotations__ if k not in ("name",
                                                                                       "metrics"))


# -- events.jsonl ---------------------------------------------------------------------------
class Event(StrEnum):
    """The ``event`` of an ``events.jsonl`` line."""

    START = "start"
    EXIT = "exit"
    RESTART = "restart"
    GIVE_UP = "give_up"
    STOP = "stop"
    KILL = "kill"
    ZOMBIE_REAPED = "zombie_reaped"
    LOG_ROTATED = "log_rotated"
    DISK_LOW = "disk_low"
    DISK_CRITICAL = "disk_critical"
    CHECK = "check"
    READY = "ready"
    SERVICE_EXIT = "service_exit"
    SAMPLE_ERROR = "sample_error"
    LEAK_SUSPECTED = "leak_suspected"  # the live estimate first crossed the threshold
    ABORT = "abort"  # --abort-on-fail: the criteria already failed
    LIVENESS_FAILED = "liveness_failed"  # one failed liveness probe
    UNHEALTHY = "unhealthy"  # ``liveness.failures`` probes failed in a row
    DIAGNOSE = "diagnose"  # diagnosis snapshots taken (start, first leak, end)


class StartEvent(TypedDict):
    ts: float
    event: Literal[Event.START]
    name: str
    pid: int
    argv: list[str]
    attempt: int
    create_time: NotRequired[float | None]  # the process's start (Unix s): its identity with pid


class ExitEvent(TypedDict):
    ts: float
    event: Literal[Event.EXIT]
    name: str
    pid: int
    returncode: int  # negative = killed by that signal (POSIX)
    runtime_s: float
    expected: bool  # soakctl asked it to stop


class RestartEvent(TypedDict):
    ts: float
    event: Literal[Event.RESTART]
    name: str
    attempt: int
    delay_s: float
    returncode: NotRequired[int]  # the exit that caused it
    reason: NotRequired[str]  # why, when not an exit ("unhealthy")


class GiveUpEvent(TypedDict):
    ts: float
    event: Literal[Event.GIVE_UP]
    name: str
    restarts: int
    reason: str


class StopEvent(TypedDict):
    ts: float
    event: Literal[Event.STOP]
    name: str
    reason: str
    signal: str


class KillEvent(TypedDict):
    ts: float
    event: Literal[Event.KILL]
    name: str
    pids: list[int]


class ZombieReapedEvent(TypedDict):
    ts: float
    event: Literal[Event.ZOMBIE_REAPED]
    name: str
    pid: int
    returncode: int


class LogRotatedEvent(TypedDict):
    ts: float
    event: Literal[Event.LOG_ROTATED]
    name: str
    file: str
    bytes: int
    dropped: str | None  # the rotated file ``logs.keep`` removed, if any


class DiskLowEvent(TypedDict):
    ts: float
    event: Literal[Event.DISK_LOW]
    name: str
    free_bytes: int
    min_free_bytes: int
    pruned: list[str]


class DiskCriticalEvent(TypedDict):
    ts: float
    event: Literal[Event.DISK_CRITICAL]
    name: str
    free_bytes: int
    critical_free_bytes: int


class CheckEvent(TypedDict):
    ts: float
    event: Literal[Event.CHECK]
    name: str
    command: list[str]
    returncode: int
    ok: bool
    duration_s: float


class ReadyEvent(TypedDict):
    ts: float
    event: Literal[Event.READY]
    name: str
    duration_s: float


class ServiceExitEvent(TypedDict):
    ts: float
    event: Literal[Event.SERVICE_EXIT]
    name: str
    returncode: int


class SampleErrorEvent(TypedDict):
    ts: float
    event: Literal[Event.SAMPLE_ERROR]
    name: str
    error: str


class LeakSuspectedEvent(TypedDict):
    ts: float
    event: Literal[Event.LEAK_SUSPECTED]
    name: str
    slope_mib_per_hour: float | None
    ci_mib_per_hour: list[float | None] | None


class AbortEvent(TypedDict):
    ts: float
    event: Literal[Event.ABORT]
    name: str
    reason: str
    elapsed_s: float


class LivenessFailedEvent(TypedDict):
    ts: float
    event: Literal[Event.LIVENESS_FAILED]
    name: str
    detail: str
    consecutive: int
    failures: int
    duration_s: float


class UnhealthyEvent(TypedDict):
    ts: float
    event: Literal[Event.UNHEALTHY]
    name: str
    consecutive: int
    action: str  # "restart" or "none"
    restart_policy: str


class DiagnoseEvent(TypedDict):
    ts: float
    event: Literal[Event.DIAGNOSE]
    name: str
    moment: str  # "start", "leak" or "end"
    dir: str  # relative to the run directory
    smaps: bool
    tracemalloc: bool
    commands: int


EVENT_TYPES: dict[Event, type[Any]] = {
    Event.START: StartEvent, Event.EXIT: ExitEvent, Event.RESTART: RestartEvent,
    Event.GIVE_UP: GiveUpEvent, Event.STOP: StopEvent, Event.KILL: KillEvent,
    Event.ZOMBIE_REAPED: ZombieReapedEvent, Event.LOG_ROTATED: LogRotatedEvent,
    Event.DISK_LOW: DiskLowEvent, Event.DISK_CRITICAL: DiskCriticalEvent,
    Event.CHECK: CheckEvent, Event.READY: ReadyEvent, Event.SERVICE_EXIT: ServiceExitEvent,
    Event.SAMPLE_ERROR: SampleErrorEvent, Event.LEAK_SUSPECTED: LeakSuspectedEvent,
    Event.ABORT: AbortEvent, Event.LIVENESS_FAILED: LivenessFailedEvent,
    Event.UNHEALTHY: UnhealthyEvent, Event.DIAGNOSE: DiagnoseEvent,
}


# -- run.json -------------------------------------------------------------------------------
class ExitReason(StrEnum):
    """Why a run ended (``run.json`` ``exit_reason``)."""

    DURATION_REACHED = "duration_reached"
    TARGET_EXITED = "target_exited"
    GAVE_UP = "gave_up"  # max restarts reached
    INTERRUPTED = "interrupted"  # SIGINT/SIGTERM to soakctl
    DISK_CRITICAL = "disk_critical"
    SERVICE_FAILED = "service_failed"  # a service did not start or become ready
    START_FAILED = "start_failed"  # the target (or the run's setup) could not start
    ABORTED = "aborted"  # --abort-on-fail: the criteria already failed mid-run
    WRITE_FAILED = "write_failed"  # the run directory could not be written (disk full, ...)


class Commands(TypedDict):
    target: list[str]
    services: dict[str, list[str]]
    after: list[list[str]]


class Host(TypedDict):
    os: str
    platform: str
    python: str
    cpus: int | None
    memory_bytes: int
    hostname: str


class AfterCheck(TypedDict):
    command: list[str]
    returncode: int
    ok: bool
    duration_s: float


class RunJson(TypedDict):
    """``run.json``: written at the start (``end_ts`` null) and rewritten at the end."""

    schema: int
    soakctl_version: str
    run_id: str
    profile: str
    profile_path: str | None
    commands: Commands
    host: Host
    start_ts: float
    end_ts: float | None
    planned_duration_s: float
    interval_s: float
    exit_reason: ExitReason | None
    unexpected_exit: bool
    interrupted: bool
    restarts: int
    zombies_reaped: int
    after_checks: list[AfterCheck]
    criteria: list[str]
    samples: int
    artifacts_bytes: int
    error: NotRequired[str]  # why the run could not start (start_failed / service_failed)
    abort_reason: NotRequired[str]  # exit_reason "aborted": the failed criterion
    aborted_at: NotRequired[float]  # exit_reason "aborted": Unix seconds
    soakctl_process: NotRequired[Mapping[str, float]]  # {"pid", "create_time"} of soakctl
    log_error_levels: NotRequired[list[str]]  # words that make a log line an error_log_lines one
    liveness: NotRequired[dict[str, Any]]  # the target's liveness probe, as configured
    abort_on_fail: NotRequired[dict[str, float]]  # {"after_s", "every_s"} when on
    leak_series: NotRequired[list[str]]  # the profile's series judged for leaks, when it names them


# -- analysis.json --------------------------------------------------------------------------
LeakStatus = Literal["leak", "no_leak", "inconclusive"]


class _LeakCommon(TypedDict):
    series: str
    status: LeakStatus
    detected: bool
    method: str
    warmup_s: float
    reason: str
    window: str
    bucket_s: float
    period_s: float | None
    level_shifts: int


class MemoryLeak(_LeakCommon):
    """The leak block of a memory series (``leak``, ``leaks.uss_bytes``), in MiB/h."""

    slope_mib_per_hour: float | None
    ci_mib_per_hour: list[float | None]
    threshold_mib_per_hour: float | None
    min_detectable_mib_per_hour: float | None  # smallest leak this run could catch (95 % power)


class CountLeak(_LeakCommon):
    """The leak block of any other series (fds, threads, scraped metrics), in units per hour."""

    slope_per_hour: float | None
    ci_per_hour: list[float | None]
    threshold_per_hour: float | None
    min_detectable_per_hour: float | None  # smallest growth this run could catch (95 % power)


class SeriesStats(TypedDict):
    min: float
    max: float
    avg: float
    p50: float
    p90: float
    p95: float
    p99: float
    last: float


class CriterionResult(TypedDict):
    expr: str
    value: float | None
    ok: bool
    status: Literal["pass", "fail", "skip"]
    source: str  # "default", "profile" or "cli"
    message: str


class BaselineRow(TypedDict):
    current: float
    baseline: float
    delta: float
    limit: float
    ok: bool


class BaselineJson(TypedDict):
    path: str
    ok: bool
    series: dict[str, BaselineRow]
    regressions: list[str]


class RunSummary(TypedDict, total=False):
    """The ``run.json`` facts copied into ``analysis.json`` (those the run recorded)."""

    run_id: str
    profile: str
    soakctl_version: str
    host: Host
    start_ts: float
    end_ts: float | None
    exit_reason: ExitReason | None
    interrupted: bool
    restarts: int
    planned_duration_s: float
    interval_s: float
    commands: Commands
    abort_reason: str
    aborted_at: float


RUN_SUMMARY_KEYS: tuple[str, ...] = tuple(RunSummary.__annotations__)


class GrowingSite(TypedDict):
    """An allocation site whose memory grew during the run (``diagnose``)."""

    site: str  # "file:line"
    bytes: int
    count: int


class PrometheusSeries(TypedDict):
    """One Prometheus series judged as a memory series (``soakctl analyze --prometheus``)."""

    name: str
    labels: dict[str, str]
    verdict: Literal["pass", "fail"]
    reasons: list[str]
    samples: int
    duration_s: float
    leak: MemoryLeak
    stats: dict[str, SeriesStats]
    criteria: list[CriterionResult]


class PrometheusSource(TypedDict):
    prometheus: str  # the server URL, credentials removed
    query: str
    start: float
    end: float
    step_s: float
    pages: int


class AnalysisJson(TypedDict):
    """``analysis.json``: the verdict and everything it was based on."""

    schema: int
    verdict: Literal["pass", "fail"]
    reasons: list[str]
    duration_s: float
    samples: int
    leak: MemoryLeak
    leaks: dict[str, MemoryLeak | CountLeak]
    stats: dict[str, SeriesStats]
    criteria: list[CriterionResult]
    input: str
    warnings: list[str]
    run: RunSummary
    baseline: NotRequired[BaselineJson]  # only with --baseline
    diagnosis: NotRequired[list[GrowingSite]]  # top growing allocation sites, largest first
    memory_map: NotRequired[dict[str, Any]]  # growth by mapping kind (/proc/PID/smaps)
    series: NotRequired[list[PrometheusSeries]]  # with --prometheus: one block per series
    source: NotRequired[PrometheusSource]  # with --prometheus: where the samples came from


# -- JSON Schema ----------------------------------------------------------------------------
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schemas"
_TITLES = {
    "sample": "resources.jsonl line",
    "event": "events.jsonl line",
    "run": "run.json",
    "analysis": "analysis.json",
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """``{file stem: JSON Schema}`` for each run file, generated from the types above."""
    from typing import Union

    from pydantic import TypeAdapter

    any_event = Union[tuple(EVENT_TYPES.values())]  # type: ignore[valid-type]  # noqa: UP007
    types: dict[str, Any] = {
        "sample": Sample, "event": any_event, "run": RunJson, "analysis": AnalysisJson,
    }
    out: dict[str, dict[str, Any]] = {}
    for stem, tp in types.items():
        schema = TypeAdapter(tp).json_schema()
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://soakctl.invalid/schemas/{stem}.schema.json",
            "title": _TITLES[stem],
            **{k: v for k, v in schema.items() if k != "title"},
        }
        out[stem] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    import json

    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, schema in json_schemas().items():
        path = directory / f"{stem}.schema.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m soakctl.contracts [DIR]``: regenerate the JSON Schema files."""
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else SCHEMA_DIR
    for path in write_schemas(directory):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
