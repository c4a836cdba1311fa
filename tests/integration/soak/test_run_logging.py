"""soakctl's own logging: one line on stderr, the traceback kept in RUN_DIR/soakctl.log.

A sampler failure cannot be provoked on demand from outside, so this test runs the real CLI
in-process with a real target and makes the first sample raise (the only fake part); the
logging path, the run and its files are real.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from soakctl.cli.logsetup import PACKAGES, configure_logging
from soakctl.cli.main import main
from soakctl.sample import ProcessTreeSampler
from tests.integration.soak.conftest import PY


@pytest.fixture
def package_loggers() -> Iterator[None]:
    saved = {n: (list(logging.getLogger(n).handlers), logging.getLogger(n).level)
             for n in ("", *PACKAGES)}
    yield
    for n, (handlers, level) in saved.items():
        logger = logging.getLogger(n)
        for h in logger.handlers:
            if h not in handlers:
                h.close()
        logger.handlers[:] = handlers
        logger.setLevel(level)


def test_a_failed_sample_is_logged_to_the_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    package_loggers: None,
) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("SOAKCTL_DEBUG", raising=False)
    real = ProcessTreeSampler.sample
    calls = {"n": 0}

    def first_fails(self: ProcessTreeSampler) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("injected sampler fault")
        return real(self)

    monkeypatch.setattr(ProcessTreeSampler, "sample", first_fails)
    root_before = list(logging.getLogger().handlers)
    try:
        main(["run", "--duration", "2s", "--interval", "0.2s", "--out", str(tmp_path),
              "--no-analyze", "--", PY, "-c", "import time; time.sleep(60)"])
        code: int | str | None = 0
    except SystemExit as exc:
        code = exc.code
    assert code in (0, None)
    assert list(logging.getLogger().handlers) == root_before

    out, err = capsys.readouterr()
    run_dir = Path(out.splitlines()[0])
    log = (run_dir / "soakctl.log").read_text()
    assert "ERROR soakctl.runner: sample failed" in log
    assert "Traceback (most recent call last)" in log
    assert "RuntimeError: injected sampler fault" in log
    # the terminal gets one line, not the traceback
    assert "soakctl: error: sample failed (RuntimeError: injected sampler fault)" in err
    assert "Traceback" not in err
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert [e["error"] for e in events if e["event"] == "sample_error"] == [
        "RuntimeError: injected sampler fault"]
    # the run went on sampling after the failure
    assert len((run_dir / "resources.jsonl").read_text().splitlines()) >= 2
    # the file handler was detached at the end of the run
    assert not [h for n in PACKAGES for h in logging.getLogger(n).handlers
                if isinstance(h, logging.FileHandler)]


def test_configuring_twice_keeps_one_stderr_handler(package_loggers: None) -> None:
    configure_logging(debug=False)
    configure_logging(debug=False)
    for name in PACKAGES:
        ours = [h for h in logging.getLogger(name).handlers
                if getattr(h, "_soakctl_cli_handler", False)]
        assert len(ours) == 1
