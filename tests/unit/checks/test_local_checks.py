"""Each local built-in check passes on a good setup and fails for the reason it exists."""

from __future__ import annotations

import socket
from pathlib import Path

from checks.artifacts_writable import ArtifactsWritableCheck
from checks.base import Status
from checks.disk_space import DiskCheck
from checks.ports_free import PortsCheck
from checks.profile_valid import ProfileCheck
from checks.python_env import PythonCheck
from checks.target_command import TargetCommandCheck
from tests.unit.checks.conftest import MakeContext


def test_python_passes_in_this_venv(make_ctx: MakeContext) -> None:
    outcome = PythonCheck().run(make_ctx())
    assert outcome.status is Status.PASS, outcome.message


def test_python_fails_on_missing_or_old_dependency(make_ctx: MakeContext) -> None:
    check = PythonCheck(requirements=["no-such-distribution-xyz>=1", "pytest>=999"])
    outcome = check.run(make_ctx())
    assert outcome.status is Status.FAIL
    assert "no-such-distribution-xyz is not installed" in outcome.message
    assert "pytest" in outcome.message and "need pytest>=999" in outcome.message


def test_python_fails_on_old_interpreter(make_ctx: MakeContext) -> None:
    outcome = PythonCheck(min_python=(99, 0)).run(make_ctx())
    assert outcome.status is Status.FAIL
    assert "too old" in outcome.message


def test_profile_passes_and_fails_naming_the_key(make_ctx: MakeContext) -> None:
    assert ProfileCheck().run(make_ctx()).status is Status.PASS
    bad = make_ctx({"target": {"command": ["x"], "backoff": {"base": "fast"}}})
    outcome = ProfileCheck().run(bad)
    assert outcome.status is Status.FAIL
    assert "target.backoff.base" in outcome.message


def test_disk_passes_with_room_and_fails_below_floor_plus_projection(
    make_ctx: MakeContext,
) -> None:
    ok = make_ctx({"target": {"command": ["x"]}, "disk": {"min_free": "1MB"}})
    assert DiskCheck().run(ok).status is Status.PASS
    floor = make_ctx({"target": {"command": ["x"]}, "disk": {"min_free": "900TB"}})
    outcome = DiskCheck().run(floor)
    assert outcome.status is Status.FAIL
    assert "disk.min_free 900.0 TB" in outcome.message
    logs = make_ctx(
        {
            "target": {"command": ["x"]},
            "disk": {"min_free": "1MB"},
            "logs": {"max_bytes": "100TB", "keep": 5},
        }
    )
    outcome = DiskCheck().run(logs)
    assert outcome.status is Status.FAIL
    assert outcome.details["projected_run_bytes"] >= 600e12


def test_artifacts_dir_writable_and_blocked_by_a_file(
    make_ctx: MakeContext, tmp_path: Path
) -> None:
    assert ArtifactsWritableCheck().run(make_ctx(artifacts_dir=tmp_path / "a" / "b")).status is (
        Status.PASS
    )
    (tmp_path / "blocker").write_text("not a directory")
    outcome = ArtifactsWritableCheck().run(make_ctx(artifacts_dir=tmp_path / "blocker" / "soak"))
    assert outcome.status is Status.FAIL
    assert "is a file, not a directory" in outcome.message


def test_target_command_found_missing_and_absent(make_ctx: MakeContext) -> None:
    assert TargetCommandCheck().run(make_ctx()).status is Status.PASS
    missing = make_ctx(
        {"target": {"command": ["no-such-program-xyz", "--flag"]}, "after": [["true"]]}
    )
    outcome = TargetCommandCheck().run(missing)
    assert outcome.status is Status.FAIL
    assert outcome.message == "target: 'no-such-program-xyz' not found"
    assert TargetCommandCheck().run(make_ctx({"name": "no-target"})).status is Status.SKIP


def test_ports_free_and_busy(make_ctx: MakeContext) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    profile = {"target": {"command": ["x"]}, "metrics_url": f"http://127.0.0.1:{free_port}/m"}
    assert PortsCheck().run(make_ctx(profile)).status is Status.PASS
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy_port = listener.getsockname()[1]
        profile["metrics_url"] = f"http://127.0.0.1:{busy_port}/metrics"
        outcome = PortsCheck().run(make_ctx(profile))
    assert outcome.status is Status.FAIL
    assert f"127.0.0.1:{busy_port} (metrics_url) is in use" in outcome.message


def test_ports_mmbot_default_metrics_and_fixed_sim_port(make_ctx: MakeContext) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        profile = {
            "target": {"command": ["mmbot", "run"], "env": {"MMBOT_METRICS_PORT": "0"}},
            "services": [{"name": "exchange", "command": ["mmbot", "sim", "--port", str(port)]}],
        }
        outcome = PortsCheck().run(make_ctx(profile))
    assert outcome.status is Status.FAIL
    assert "service exchange --port" in outcome.message
