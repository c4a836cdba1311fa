"""soakctl.winjob: imports anywhere without side effects, structures with the documented
64-bit layouts, and (on Windows only) real job objects: membership, terminate, kill on close.

The layouts are those of winnt.h, as documented on learn.microsoft.com
(JOBOBJECT_BASIC_LIMIT_INFORMATION, IO_COUNTERS, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, JOBOBJECT_BASIC_PROCESS_ID_LIST). A wrong size would
make SetInformationJobObject fail with ERROR_BAD_LENGTH on Windows.
"""

from __future__ import annotations

import ctypes
import subprocess
import sys
import time

import psutil
import pytest

from soakctl import winjob

WIN64 = ctypes.sizeof(ctypes.c_void_p) == 8
windows_only = pytest.mark.skipif(sys.platform != "win32",
                                  reason="job objects exist only on Windows (the Windows CI job)")


def test_import_has_no_side_effects() -> None:
    code = ("import threading, soakctl.winjob as w; "
            "assert w._kernel32 is None, 'kernel32 loaded at import'; "
            "assert threading.active_count() == 1; "
            "import psutil; assert psutil.Process().children() == []; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "ok"


@pytest.mark.skipif(not WIN64, reason="documented sizes are for 64-bit")
def test_structures_have_the_documented_64_bit_sizes() -> None:
    assert ctypes.sizeof(winjob.JOBOBJECT_BASIC_LIMIT_INFORMATION) == 64
    assert ctypes.sizeof(winjob.IO_COUNTERS) == 48
    assert ctypes.sizeof(winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION) == 144
    assert ctypes.sizeof(winjob.JOBOBJECT_BASIC_ACCOUNTING_INFORMATION) == 48
    # Two DWORD counts (8 bytes) then ULONG_PTR ids.
    one = winjob.process_id_list_type(1)
    assert ctypes.sizeof(one) == 16
    assert one.ProcessIdList.offset == 8  # type: ignore[attr-defined]
    assert ctypes.sizeof(winjob.process_id_list_type(100)) == 8 + 8 * 100
    # The fields Windows reads at fixed offsets.
    basic = winjob.JOBOBJECT_BASIC_LIMIT_INFORMATION
    assert basic.LimitFlags.offset == 16  # type: ignore[attr-defined]
    assert basic.Affinity.offset == 48  # type: ignore[attr-defined]
    ext = winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
    assert ext.IoInfo.offset == 64  # type: ignore[attr-defined]
    assert ext.ProcessMemoryLimit.offset == 112  # type: ignore[attr-defined]


def test_limit_flags_kill_on_close_and_never_allow_breakaway() -> None:
    assert winjob.JOB_LIMIT_FLAGS & winjob.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    assert not winjob.JOB_LIMIT_FLAGS & winjob.JOB_OBJECT_LIMIT_BREAKAWAY_OK
    assert not winjob.JOB_LIMIT_FLAGS & winjob.JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK


@pytest.mark.skipif(sys.platform == "win32", reason="the POSIX no-op")
def test_posix_gets_the_null_job_set_and_unchanged_spawn_flags() -> None:
    jobs = winjob.job_set()
    assert isinstance(jobs, winjob.NullJobSet)
    kwargs = {"start_new_session": True}
    assert jobs.popen_kwargs(kwargs) == kwargs
    assert jobs.pids("target") == [] and jobs.sweep() == []


_PARENT = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(600)\n"
)


def _spawn(jobs: winjob.JobSet, name: str) -> tuple[subprocess.Popen[bytes], int]:
    flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)
    proc = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL,
                            **jobs.popen_kwargs({"creationflags": flags}))
    jobs.admit(name, proc)  # suspended until here: the child can only start inside the job
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    return proc, child


def _gone(pids: list[int], timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not any(psutil.pid_exists(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


@windows_only
def test_windows_job_holds_the_tree_and_terminates_it() -> None:  # pragma: no cover
    jobs = winjob.job_set()
    assert type(jobs) is winjob.JobSet
    proc, child = _spawn(jobs, "t")
    try:
        assert {proc.pid, child} <= set(jobs.pids("t"))
        assert jobs._jobs["t"].accounting().TotalProcesses >= 2
        jobs.terminate("t")
        assert proc.wait(timeout=15) == winjob.TERMINATED_EXIT_CODE
        assert _gone([proc.pid, child])
    finally:
        jobs.close()
        if proc.stdout is not None:
            proc.stdout.close()


@windows_only
def test_windows_closing_the_job_kills_orphans_too() -> None:  # pragma: no cover
    jobs = winjob.job_set()
    proc, child = _spawn(jobs, "t")
    try:
        proc.kill()  # the parent dies: its child is an orphan, still in the job
        proc.wait(timeout=15)
        assert psutil.pid_exists(child) and child in jobs.pids("t")
        jobs.close()  # what soakctl's death does: the last handle closes
        assert _gone([child])
    finally:
        jobs.close()
        if proc.stdout is not None:
            proc.stdout.close()
