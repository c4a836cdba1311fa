"""``soakctl logs lint|clean`` as a user runs them: exit codes, output, JSON, memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

# Runs soakctl as the only child of a fresh interpreter, so RUSAGE_CHILDREN is its peak RSS.
RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "proc = subprocess.run(sys.argv[1:], capture_output=True, timeout=240)\n"
    "sys.stderr.write(proc.stderr.decode())\n"
    "sys.stdout.write(proc.stdout.decode())\n"
    "print('RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(proc.returncode)\n"
)


def run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)


def test_lint_reports_positions_and_exits_1(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    log = tmp_path / "target.log"
    log.write_bytes(b"fine\nprice 3\xe2\x82\xac\n" + b"y" * 30 + b"\n")
    proc = run([soakctl_bin, "logs", "lint", str(tmp_path), "--max-line-length", "20"], clean_env)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines()[:4] == [
        f"{log}:2:8: non-ASCII byte 0xe2",
        f"{log}:2:9: non-ASCII byte 0x82",
        f"{log}:2:10: non-ASCII byte 0xac",
        f"{log}:3:21: line is 30 bytes long (limit 20)",
    ]


def test_lint_json_clean_file_exits_0(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    log = tmp_path / "ok.log"
    log.write_text("plain ascii\n" * 10)
    proc = run([soakctl_bin, "logs", "lint", str(log), "--json"], clean_env)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["ok"] is True
    assert payload["files"][0]["lines"] == 10


def test_lint_missing_path_is_usage_error(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    proc = run([soakctl_bin, "logs", "lint", str(tmp_path / "nope.log")], clean_env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"soakctl: error: {tmp_path / 'nope.log'}: no such file or directory"
    ]


def test_lint_100mb_line_in_constant_memory(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    log = tmp_path / "huge.log"
    with log.open("wb") as out:
        out.write(b"head\n")
        block = b"z" * (1 << 20)
        for _ in range(100):
            out.write(block)
        out.write(b"\xc3\xa9\ntail\n")
    proc = run(
        [sys.executable, "-c", RSS_WRAPPER, soakctl_bin, "logs", "lint", str(log), "--json"],
        clean_env,
        timeout=250,
    )
    assert proc.returncode == 1, proc.stderr
    body, _, rss_line = proc.stdout.rpartition("RSS_KB ")
    payload = json.loads(body)
    assert payload["findings"] == [
        {
            "path": str(log),
            "line": 2,
            "col": 10_001,
            "kind": "long_line",
            "byte": None,
            "length": 100 * (1 << 20) + 2,
            "message": "line is 104857602 bytes long (limit 10000)",
        },
        {
            "path": str(log),
            "line": 2,
            "col": 100 * (1 << 20) + 1,
            "kind": "non_ascii",
            "byte": 0xC3,
            "length": None,
            "message": "non-ASCII byte 0xc3",
        },
        {
            "path": str(log),
            "line": 2,
            "col": 100 * (1 << 20) + 2,
            "kind": "non_ascii",
            "byte": 0xA9,
            "length": None,
            "message": "non-ASCII byte 0xa9",
        },
    ]
    assert payload["files"][0]["lines"] == 3
    peak_rss_mb = int(rss_line) / 1024
    assert peak_rss_mb <= 64, f"peak RSS {peak_rss_mb:.1f} MB"


def test_clean_cli(tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]) -> None:
    for age_s, name in enumerate(("t.log", "t.log.1", "t.log.2", "t.log.3")):
        (tmp_path / name).write_text("x\n")
        os.utime(tmp_path / name, (time.time() - 100 * age_s,) * 2)
    proc = run(
        [soakctl_bin, "logs", "clean", str(tmp_path), "--keep", "1", "--min-age", "0", "--json"],
        clean_env,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["removed"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.log", "t.log.1"]
    bad = run([soakctl_bin, "logs", "clean", str(tmp_path / "x"), "--keep", "1"], clean_env)
    assert bad.returncode == 2
    assert "not a directory" in bad.stderr
