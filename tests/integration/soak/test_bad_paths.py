"""Bad paths are bad input: exit 2 and one line naming the path and the reason, no traceback;
a run that already started and cannot write stops, exits 1, and what it wrote stays valid.

Each class of bad path is made real: missing, a file where a directory is needed, permission
denied (as root: the CLI runs under ``setpriv`` without the capabilities that bypass file modes),
a read-only and a full file system (tmpfs mounts where this machine allows mounting; otherwise
skipped with the reason), and a file-size limit (``RLIMIT_FSIZE``: EFBIG, available everywhere).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.soak.conftest import PY, TARGETS, cli_env, soakctl

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="Linux mounts, capabilities and rlimits"),
]

SAMPLES = '{"ts": 1.0, "rss_bytes": 1000}\n{"ts": 2.0, "rss_bytes": 1000}\n'


def cli(args: list[str], *, prefix: list[str] | None = None, fsize: int | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([*(prefix or []), soakctl(), *args], capture_output=True, text=True,
                          timeout=timeout, env=cli_env(), stdin=subprocess.DEVNULL, check=False,
                          preexec_fn=limit if fsize is not None else None)


def assert_one_line(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    err = proc.stderr.strip()
    assert proc.returncode == code, (proc.returncode, proc.stdout, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def no_dac_override() -> list[str]:
    """Run as a user whom file modes bind: root without CAP_DAC_OVERRIDE/READ_SEARCH."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("root without setpriv (util-linux): cannot drop the capabilities")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[callable]:  # type: ignore[valid-type]
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        where = tmp_path / f"mnt{len(mounted)}"
        where.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                              capture_output=True, text=True, timeout=30, check=False)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()})")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30, check=False)


def test_missing_paths(tmp_path: Path) -> None:
    gone = tmp_path / "no" / "such"
    assert_one_line(cli(["run", "--profile", str(gone / "p.yaml")]), 2, str(gone / "p.yaml"))
    assert_one_line(cli(["analyze", str(gone)]), 2, str(gone), "no such file")
    assert_one_line(cli(["logs", "lint", str(gone / "a.log")]), 2, str(gone / "a.log"))
    assert_one_line(cli(["logs", "clean", str(gone), "--keep", "1"]), 2, str(gone))
    assert_one_line(cli(["run", "--duration", "2s", "--out", "/proc/forbidden", "--",
                         "sleep", "1"]), 2, "/proc/forbidden")


def test_a_file_where_a_directory_is_needed(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    samples = tmp_path / "resources.jsonl"
    samples.write_text(SAMPLES)
    err = assert_one_line(cli(["run", "--duration", "2s", "--out", str(afile / "runs"), "--",
                               "sleep", "1"]), 2, str(afile), "directory")
    assert "--out" in err
    assert_one_line(cli(["run", "--duration", "2s", "--out", str(afile), "--", "sleep", "1"]),
                    2, str(afile), "directory")
    assert_one_line(cli(["analyze", str(samples), "--out", str(afile)]), 2, str(afile),
                    "directory")
    assert_one_line(cli(["logs", "clean", str(afile), "--keep", "1"]), 2, str(afile))
    assert_one_line(cli(["monitor", "--pid", str(os.getpid()), "--duration", "1s",
                         "--out", str(afile / "m.jsonl")]), 2, str(afile), "directory")
    assert not list(tmp_path.glob("**/*.tmp"))


def test_permission_denied(tmp_path: Path) -> None:
    prefix = no_dac_override()
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    secret = tmp_path / "resources.jsonl"
    secret.write_text(SAMPLES)
    secret.chmod(0o000)
    try:
        assert_one_line(cli(["run", "--duration", "2s", "--out", str(locked / "runs"), "--",
                             "sleep", "1"], prefix=prefix), 2, str(locked), "permission denied")
        assert_one_line(cli(["analyze", str(secret)], prefix=prefix), 2, str(secret),
                        "not readable")
        ok = tmp_path / "ok.jsonl"
        ok.write_text(SAMPLES)
        assert_one_line(cli(["analyze", str(ok), "--out", str(locked)], prefix=prefix), 2,
                        str(locked), "permission denied")
        assert_one_line(cli(["logs", "lint", str(secret)], prefix=prefix), 2, str(secret))
    finally:
        locked.chmod(0o755)
        secret.chmod(0o644)
    assert list(locked.iterdir()) == []


def test_read_only_file_system(tmp_path: Path, tmpfs) -> None:  # type: ignore[no-untyped-def]
    ro = tmpfs("ro,size=1m")
    samples = tmp_path / "resources.jsonl"
    samples.write_text(SAMPLES)
    assert_one_line(cli(["run", "--duration", "2s", "--out", str(ro), "--", "sleep", "1"]), 2,
                    str(ro), "read-only")
    assert_one_line(cli(["analyze", str(samples), "--out", str(ro / "x")]), 2, "read-only")


def test_no_room_before_the_run_starts_is_bad_input(tmp_path: Path) -> None:
    # The file-size limit stops the first write (run.json): nothing was started.
    proc = cli(["run", "--duration", "30s", "--out", str(tmp_path), "--", "sleep", "60"],
               fsize=0)
    assert_one_line(proc, 2, str(tmp_path), "file too large")


def _assert_run_files_valid(run_dir: Path) -> dict:
    run = json.loads((run_dir / "run.json").read_text())
    for name in ("events.jsonl", "resources.jsonl"):
        data = (run_dir / name).read_bytes()
        assert data == b"" or data.endswith(b"\n"), f"{name} ends inside a line"
        for line in data.splitlines():
            json.loads(line)
    for log in (run_dir / "logs").iterdir():
        data = log.read_bytes()
        assert data == b"" or data.endswith(b"\n"), f"{log.name} ends inside a line"
    return run


@pytest.mark.parametrize("how", ["rlimit", "tmpfs"])
def test_full_during_the_run_stops_it_keeps_files_valid_and_fails(
    tmp_path: Path, tmpfs, how: str  # type: ignore[no-untyped-def]
) -> None:
    chatty = f"[{PY}, {TARGETS / 'chatty.py'}, '100000000']"
    out = tmpfs("size=512k") if how == "tmpfs" else tmp_path / "out"
    profile = tmp_path / "p.yaml"
    profile.write_text(f"duration: 60s\ninterval: 0.2s\ntarget: {{command: {chatty}}}\n"
                       "logs: {max_bytes: 10MB, keep: 2}\ndisk: {min_free: 0, critical_free: 0}\n")
    started = time.monotonic()
    proc = cli(["run", "--profile", str(profile), "--out", str(out)],
               fsize=128 * 1024 if how == "rlimit" else None)
    assert time.monotonic() - started < 55, "the run did not stop when it could not write"
    reason = "file too large" if how == "rlimit" else "full"
    assert_one_line(proc, 1, "target.log", reason)
    run_dir = Path(proc.stdout.splitlines()[0])
    run = _assert_run_files_valid(run_dir)
    assert run["exit_reason"] == "write_failed"
    assert "target.log" in run["error"]
    assert "FAIL" in proc.stdout
