"""``clean_logs``: keeps the N newest rotated files per log, never the active or busy ones."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from soakctl.logtools.clean import clean_logs

NOW = time.time()


def make(directory: Path, name: str, age_s: float, size: int = 10) -> Path:
    path = directory / name
    path.write_bytes(b"x" * size)
    os.utime(path, (NOW - age_s, NOW - age_s))
    return path


def test_keeps_newest_per_log_and_never_the_active_file(tmp_path: Path) -> None:
    make(tmp_path, "target.log", 1000)  # active, and old: still untouched
    for index in range(1, 6):
        make(tmp_path, f"target.log.{index}", 100 * index)
    for index in range(1, 3):
        make(tmp_path, f"exchange.log.{index}", 100 * index)
    make(tmp_path, "notes.txt", 5000)

    result = clean_logs(tmp_path, keep=2, now=NOW)

    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert remaining == [
        "exchange.log.1",
        "exchange.log.2",
        "notes.txt",
        "target.log",
        "target.log.1",
        "target.log.2",
    ]
    assert sorted(Path(r.path).name for r in result.removed) == [
        "target.log.3",
        "target.log.4",
        "target.log.5",
    ]
    assert result.freed_bytes == 30


def test_newest_is_by_mtime_not_index(tmp_path: Path) -> None:
    make(tmp_path, "a.log.1", 500)
    make(tmp_path, "a.log.2", 100)  # renumbered by hand, but the newest content
    clean_logs(tmp_path, keep=1, now=NOW)
    assert [p.name for p in tmp_path.iterdir()] == ["a.log.2"]


def test_recently_modified_file_is_kept(tmp_path: Path) -> None:
    make(tmp_path, "a.log.1", 100)
    make(tmp_path, "a.log.2", 1)  # just rotated: the writer may still be renaming
    result = clean_logs(tmp_path, keep=0, min_age_s=10, now=NOW)
    assert [p.name for p in tmp_path.iterdir()] == ["a.log.2"]
    assert [k.reason for k in result.kept] == ["recently modified"]


def test_file_open_for_writing_is_kept(tmp_path: Path) -> None:
    busy = make(tmp_path, "a.log.3", 100)
    make(tmp_path, "a.log.4", 100)
    code = (
        "import sys, time\nf = open(sys.argv[1], 'a')\nprint('open', flush=True)\ntime.sleep(60)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code, str(busy)], stdout=subprocess.PIPE, text=True
    ) as writer:
        try:
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == "open"
            os.utime(busy, (NOW - 100, NOW - 100))
            result = clean_logs(tmp_path, keep=0, now=NOW)
        finally:
            writer.kill()
            writer.wait(timeout=10)
    assert [p.name for p in tmp_path.iterdir()] == ["a.log.3"]
    assert [k.reason for k in result.kept] == ["open for writing"]


def test_dry_run_removes_nothing(tmp_path: Path) -> None:
    make(tmp_path, "a.log.1", 100)
    make(tmp_path, "a.log.2", 200)
    result = clean_logs(tmp_path, keep=1, dry_run=True, now=NOW)
    assert len(list(tmp_path.iterdir())) == 2
    assert [Path(r.path).name for r in result.removed] == ["a.log.2"]
