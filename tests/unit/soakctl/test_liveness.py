"""Liveness probes: each probe kind against real things (a log file, a command, a server), the
start period, and the consecutive-failure count that makes a target unhealthy."""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from soakctl.analyze.rundir import load_context
from soakctl.liveness import LivenessMonitor, LogWatcher, ProbeResult, run_probe
from soakctl.profile import Liveness, parse_profile


def _probe(spec: Liveness, log: LogWatcher | None = None) -> ProbeResult:
    return run_probe(spec, lambda s: s, lambda a: a, {}, log, time.monotonic)


def test_log_probe_passes_only_on_a_new_matching_line(tmp_path: Path) -> None:
    path = tmp_path / "target.log"
    path.write_bytes(b"heartbeat before the watch\n")
    spec = Liveness(log=r"heartbeat \d+")
    watcher = LogWatcher(path, spec.log or "")
    assert not _probe(spec, watcher).ok  # the old line does not count
    with path.open("ab") as fh:
        fh.write(b"noise\nheartbeat 1\n")
    assert _probe(spec, watcher).ok
    assert not _probe(spec, watcher).ok  # nothing new since
    path.write_bytes(b"heartbeat 2\n")  # rotated: a fresh, shorter file
    assert _probe(spec, watcher).ok


def test_command_probe_exit_code_and_timeout() -> None:
    ok = Liveness(command=[sys.executable, "-c", "pass"], timeout="10s")
    bad = Liveness(command=[sys.executable, "-c", "raise SystemExit(3)"], timeout="10s")
    slow = Liveness(command=[sys.executable, "-c", "import time; time.sleep(30)"],
                    timeout="0.3s")
    assert _probe(ok).ok
    result = _probe(bad)
    assert not result.ok and result.detail == "exit 3"
    result = _probe(slow)
    assert not result.ok and "timed out" in result.detail
    missing = _probe(Liveness(command=["/nonexistent/probe"]))
    assert not missing.ok and "cannot run" in missing.detail


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> object:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    _Health.status = 200


def _poll_until(monitor: LivenessMonitor, n: int, timeout_s: float = 20.0) -> list[ProbeResult]:
    got: list[ProbeResult] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        result = monitor.poll()
        if result is not None:
            got.append(result)
        time.sleep(0.01)
    return got


def test_http_monitor_counts_consecutive_failures(health_server: ThreadingHTTPServer) -> None:
    url = f"http://127.0.0.1:{health_server.server_address[1]}/healthz"
    spec = Liveness(http=url, every="0.1s", timeout="2s", failures=2, start_period=0)
    monitor = LivenessMonitor(spec, lambda: _probe(spec), time.monotonic)
    assert [r.ok for r in _poll_until(monitor, 2)] == [True, True]
    _Health.status = 503
    results = _poll_until(monitor, 2)
    assert [r.detail for r in results] == ["HTTP 503", "HTTP 503"]
    assert monitor.unhealthy and monitor.failures_total == 2
    _Health.status = 200
    assert _poll_until(monitor, 1)[0].ok
    assert not monitor.unhealthy and monitor.failures_total == 2  # the total stays


def test_failures_in_the_start_period_do_not_count() -> None:
    spec = Liveness(http="http://127.0.0.1:9/x", every="0.1s", timeout="0.2s",
                    start_period="1h")
    calls = []

    def probe() -> ProbeResult:
        calls.append(1)
        return ProbeResult(False, "refused", 0.0)

    monitor = LivenessMonitor(spec, probe, time.monotonic)
    deadline = time.monotonic() + 10
    while len(calls) < 3 and time.monotonic() < deadline:
        assert monitor.poll() is None
        time.sleep(0.01)
    assert len(calls) >= 3 and monitor.failures_total == 0


@pytest.mark.parametrize("bad", [
    {}, {"http": "http://x", "log": "x"}, {"log": "("}, {"http": "http://x", "every": "1ms"},
])
def test_bad_liveness_is_a_profile_error_naming_the_key(bad: dict[str, object]) -> None:
    from soakctl.errors import ProfileError

    with pytest.raises(ProfileError, match=r"target\.liveness"):
        parse_profile({"target": {"command": "x", "liveness": bad}})


def test_error_log_lines_counted_with_configurable_words(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "target.log").write_bytes(
        b'{"level": "ERROR", "msg": "boom"}\nINFO errors=0 fine\nERRORS are not a level\n'
        b"FATAL: gone\nCRITICAL x\n")
    (logs / "target.log.1").write_bytes(b"ERROR again\n")
    assert load_context(tmp_path).error_lines == 2
    (tmp_path / "run.json").write_bytes(orjson.dumps({"log_error_levels": ["ERROR", "FATAL"]}))
    ctx = load_context(tmp_path)
    assert ctx.error_lines == 3 and ctx.critical_lines == 1
