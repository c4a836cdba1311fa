"""The platform-specific edges of supervision, kept small: spawning flags, stop signals,
child-subreaper, reaping and tree kills.

Linux: targets start in a new session (their own process group); soakctl becomes a child
subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``) so orphaned descendants are reparented to it and
can be sampled, killed and reaped. Windows: targets start with ``CREATE_NEW_PROCESS_GROUP`` and
are stopped with ``CTRL_BREAK_EVENT`` (the only console signal a process group can receive,
https://learn.microsoft.com/windows/console/generateconsolectrlevent), then their job object is
terminated (job objects, the Windows guard, live in :mod:`soakctl.winjob`). The Windows paths
are kept to a few lines and run in the ``windows-latest`` CI job.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
from typing import Any

logger = logging.getLogger(__name__)

WINDOWS = sys.platform == "win32"
LINUX = sys.platform.startswith("linux")
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process the reaper of orphaned descendants (Linux >= 3.4); False elsewhere."""
    if not LINUX:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except OSError:  # pragma: no cover - exotic libc
        logger.warning("could not become a child subreaper; orphans go to init")
        return False


def popen_kwargs() -> dict[str, Any]:
    """Spawn options that put the child in its own process group (and session on POSIX)."""
    if WINDOWS:  # pragma: no cover - Windows only
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)}
    return {"start_new_session": True}


def resolve_signal(name: str) -> int:
    """The signal number to stop with; on Windows always CTRL_BREAK_EVENT whatever is asked."""
    if WINDOWS:  # pragma: no cover - Windows only
        return int(getattr(signal, "CTRL_BREAK_EVENT", 1))
    return int(getattr(signal, name if name.startswith("SIG") else f"SIG{name}"))


def send_stop(pid: int, signum: int) -> None:
    """Send the stop signal to the process group led by ``pid`` (POSIX) or to ``pid`` (Windows)."""
    if WINDOWS:  # pragma: no cover - Windows only
        try:
            os.kill(pid, signum)  # GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, group of pid)
        except OSError as exc:  # gone, or no console shared with it: the grace period still runs
            logger.warning("could not send CTRL_BREAK to process group %d: %s", pid, exc)
        return
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.kill(pid, signum)


def kill_pid(pid: int) -> None:
    """Kill one process now, ignoring processes that are already gone."""
    try:
        if WINDOWS:  # pragma: no cover - Windows only
            os.kill(pid, signal.SIGTERM)  # TerminateProcess
        else:
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def kill_group(pgid: int) -> None:
    """SIGKILL a whole process group (POSIX); no-op on Windows (the tree walk covers it)."""
    if WINDOWS:  # pragma: no cover - Windows only
        return
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(pgid, signal.SIGKILL)


def reap_any() -> list[tuple[int, int]]:
    """Collect every exited child of this process: ``[(pid, returncode), ...]``.

    Returncodes follow ``subprocess``: negative for a signal. On Windows there are no zombies
    and this returns nothing; exits are seen through ``Popen.poll``.
    """
    if WINDOWS:  # pragma: no cover - Windows only
        return []
    reaped = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        reaped.append((pid, os.waitstatus_to_exitcode(status)))
    return reaped


def release_free_heap() -> None:
    """Hand freed heap pages back to the OS (glibc ``malloc_trim``); a no-op elsewhere.

    After parsing a large file the parsed objects are gone but glibc keeps their pages, so the
    analysis that follows would add its peak on top of them.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
