"""Logging for the ``soakctl`` entry point, configured once: the library only logs.

* stderr: the ``soakctl`` and ``checks`` package loggers, WARNING and up, one line per record
  (``soakctl: warning: ...``; an exception adds its type and message, not the traceback), rich
  on a terminal, plain in CI; ``SOAKCTL_DEBUG=1`` shows DEBUG records and full tracebacks.
* during ``soakctl run`` also ``RUN_DIR/soakctl.log`` (:class:`RunLogFile`): INFO and up with
  timestamps and full tracebacks, so a failure inside the sampling loop is kept with the run.

The root logger is never touched: records still propagate to it, so an embedding application
(or pytest) sees them too.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from soakctl.contracts import Sample
from soakctl.observer import RunObserver

PACKAGES = ("soakctl", "checks")
RUN_LOG = "soakctl.log"
_MARK = "_soakctl_cli_handler"


class OneLineFormatter(logging.Formatter):
    """``soakctl: warning: message (ValueError: detail)``: no traceback on the terminal."""

    def __init__(self, prefix: bool = True) -> None:
        super().__init__()
        self._prefix = prefix

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f" ({type(exc).__name__}: {exc})"
        return f"soakctl: {record.levelname.lower()}: {text}" if self._prefix else text


def _debug() -> bool:
    return bool(os.environ.get("SOAKCTL_DEBUG"))


def _stderr_handler(debug: bool) -> logging.Handler:
    handler: logging.Handler
    if sys.stderr.isatty() and not os.environ.get("CI"):
        from rich.console import Console
        from rich.logging import RichHandler

        handler = RichHandler(console=Console(stderr=True), show_time=False, show_path=False,
                              markup=False, rich_tracebacks=debug)
        if not debug:  # rich shows the level itself
            handler.setFormatter(OneLineFormatter(prefix=False))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("soakctl: %(levelname)s: %(name)s: %(message)s") if debug
            else OneLineFormatter())
    handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    return handler


def configure_logging(debug: bool | None = None) -> None:
    """Attach the stderr handler to the package loggers; calling it again replaces it."""
    debug = _debug() if debug is None else debug
    handler = _stderr_handler(debug)
    setattr(handler, _MARK, True)
    for name in PACKAGES:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, _MARK, False)]:
            logger.removeHandler(old)
            old.close()
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if debug else logging.INFO)


class RunLogFile:
    """A run observer that keeps ``RUN_DIR/soakctl.log`` open from start to finish."""

    def __init__(self, inner: RunObserver) -> None:
        self._inner = inner
        self._handler: logging.Handler | None = None

    def on_start(self, info: dict[str, Any]) -> None:
        self.open(Path(info["run_dir"]) / RUN_LOG)
        self._inner.on_start(info)

    def on_sample(self, sample: Sample) -> None:
        self._inner.on_sample(sample)

    def on_event(self, event: dict[str, Any]) -> None:
        self._inner.on_event(event)

    def on_leak_estimate(self, estimate: dict[str, Any]) -> None:
        self._inner.on_leak_estimate(estimate)

    def on_finish(self, summary: dict[str, Any]) -> None:
        try:
            self._inner.on_finish(summary)
        finally:
            self.close()

    def open(self, path: Path) -> None:
        try:
            handler = logging.FileHandler(path, encoding="utf-8")
        except OSError as exc:  # the run matters more than its log file
            logging.getLogger(__name__).warning("cannot write %s: %s", path, exc.strerror or exc)
            return
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.DEBUG if _debug() else logging.INFO)
        for name in PACKAGES:
            logger = logging.getLogger(name)
            logger.addHandler(handler)
            if logger.getEffectiveLevel() > logging.INFO:
                logger.setLevel(logging.INFO)
        self._handler = handler

    def close(self) -> None:
        handler, self._handler = self._handler, None
        if handler is None:
            return
        for name in PACKAGES:
            logging.getLogger(name).removeHandler(handler)
        handler.close()
