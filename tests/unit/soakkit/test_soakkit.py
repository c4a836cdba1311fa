"""soakkit: atomic writes and the one-line config error, shared by soakctl, checks and the bot."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from soakkit.atomic import write_bytes_atomic, write_text_atomic
from soakkit.config_errors import format_validation_error, key_path


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("old")
    write_text_atomic(path, "new ✓")
    assert path.read_text(encoding="utf-8") == "new ✓"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.mkdir()  # a directory where the file should go: the rename fails
    (target / "keep").write_text("x")
    with pytest.raises(OSError):
        write_bytes_atomic(target, b"data")
    assert (target / "keep").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


@pytest.mark.linux_only("replacing a file another thread holds open is refused on Windows")
def test_readers_never_see_half_a_file(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    small, big = b"a" * 10, b"b" * 2_000_000
    write_bytes_atomic(path, small)
    seen: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(len(path.read_bytes()))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(40):
            write_bytes_atomic(path, big if i % 2 == 0 else small)
    finally:
        stop.set()
        reader.join(timeout=30)
    assert seen <= {len(small), len(big)}


class Backoff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base: float
    jitter: float = Field(0.3, ge=0, le=1)


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")
    command: list[str]
    backoff: Backoff = Backoff(base=1.0)


def _error(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        Target.model_validate(data)
    return info.value


def test_unknown_and_missing_keys_read_plainly() -> None:
    assert format_validation_error("p.yaml", _error({"command": ["x"], "bogus": 1})) == (
        "p.yaml: bogus: unknown key")
    assert format_validation_error("p.yaml", _error({})) == (
        "p.yaml: command: required key is missing")


def test_nested_path_the_reason_and_the_count_of_other_problems() -> None:
    exc = _error({"command": ["x"], "backoff": {"base": 1, "jitter": 5, "x": 1}})
    assert format_validation_error("p.yaml", exc) == (
        "p.yaml: backoff.jitter: Input should be less than or equal to 1 (and 1 more problem)")
    exc = _error({"backoff": {"jitter": 5, "x": 1}})
    assert format_validation_error("p.yaml", exc).endswith("(and 3 more problems)")


def test_an_origin_is_named_beside_the_key() -> None:
    exc = _error({"command": ["x"], "backoff": {"base": "fast"}})
    line = format_validation_error("bot.yaml", exc, lambda p: "env BASE" if p == "backoff.base"
                                   else None)
    assert line.startswith("bot.yaml: backoff.base (or env BASE): ")


def test_the_top_level_has_a_name() -> None:
    assert key_path(()) == "(top level)"
    assert key_path(("ignore", 0, "reason")) == "ignore.0.reason"


@given(st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=40), max_size=5))
def test_always_one_line_naming_the_source(data: dict[str, str]) -> None:
    try:
        Target.model_validate(data)
    except ValidationError as exc:
        line = format_validation_error("f.yaml", exc)
        assert "\n" not in line and line.startswith("f.yaml: ")
    else:  # pragma: no cover - no dict of strings is a valid Target (command is a list)
        raise AssertionError("validated")


def test_pid_in_the_temporary_name_keeps_writers_apart(tmp_path: Path) -> None:
    path = tmp_path / "ready.json"
    write_text_atomic(path, "{}")
    assert not (tmp_path / f".ready.json.{os.getpid()}.tmp").exists()
