"""Windows job objects: every supervised tree in a kill-on-close job held by soakctl.

On Windows there is no guard process (:mod:`soakctl.guard` is POSIX): each supervised process
(services and target) is put in a job object created with ``JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE``
whose only handle is held by soakctl. Whatever kills soakctl (TerminateProcess, a crash, the
runner cancelling the job) closes that handle, and the kernel then terminates every process in
the job: the target, its children, and orphans whose parent is long gone.
https://learn.microsoft.com/windows/win32/procthread/job-objects

* **Membership.** Children inherit the job on creation, and the job allows no breakaway
  (neither ``JOB_OBJECT_LIMIT_BREAKAWAY_OK`` nor ``..._SILENT_BREAKAWAY_OK`` is set, so a
  ``CREATE_BREAKAWAY_FROM_JOB`` child fails to start rather than escape). The job's process id
  list (``QueryInformationJobObject(JobObjectBasicProcessIdList)``) is the tree: the sampler
  adopts every pid in it, so an orphan, which Windows never reparents, is still sampled and
  counted.
* **The start race, closed.** A process could spawn a child between ``CreateProcess`` and
  ``AssignProcessToJobObject``; that child would be outside the job. ``subprocess.Popen``
  passes ``creationflags`` through but keeps no thread handle, so we start the process with
  ``CREATE_SUSPENDED``, assign it to the job, and only then resume it (``psutil.Process.resume``,
  which resumes every thread of the process: ``NtResumeProcess``). A suspended process runs no
  code, so nothing can be spawned before the assignment. If the assignment fails, the process
  is terminated before it ever runs and the start fails with the reason.
* **Nesting.** soakctl itself often runs inside a job (the Actions runner, a console launcher);
  since Windows 8 / Server 2012 a process may be in nested jobs, so the assignment works there.
* **Stopping.** A normal stop stays CTRL_BREAK to the process group, the grace period, then
  ``TerminateJobObject`` (in :class:`soakctl.supervise.Supervisor`), which also takes down the
  members the tree walk never saw.
* **No handle leaks into children.** The job handle is created non-inheritable (no security
  attributes), so a child started with inherited pipes does not keep the job alive after
  soakctl dies.
* ``JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION`` is set too: a crashing member dies at once
  instead of waiting on a Windows Error Reporting dialog nobody will click on a runner; the
  crash shows up as an exit, which is what a soak should report.

**ctypes, not pywin32.** Six kernel32 calls and four fixed-layout structures are all this
needs; ctypes ships with CPython, so there is no extra wheel (pywin32 is ~10 MB, installs DLLs
with a post-install step, and lags new Python releases). The structures are declared with
their documented layouts and their sizes are checked by a unit test on any 64-bit platform;
every call sets ``argtypes``/``restype`` so handles are never truncated to 32 bits, and every
failure raises :class:`JobError` carrying ``GetLastError``.

The module imports on every platform without side effects (``kernel32`` is loaded on first
use); only :func:`job_set` decides whether jobs are used, so the supervisor's hooks are the
same lines on Linux, where :class:`NullJobSet` does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import subprocess
import sys
from ctypes import wintypes
from typing import Any

import psutil  # already a dependency; Process.resume() is NtResumeProcess on Windows

logger = logging.getLogger(__name__)

WINDOWS = sys.platform == "win32"

# -- constants (winnt.h / winbase.h) ----------------------------------------------------------
CREATE_SUSPENDED = 0x00000004
JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION = 0x00000400
JOB_OBJECT_LIMIT_BREAKAWAY_OK = 0x00000800
JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK = 0x00001000
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
JOB_LIMIT_FLAGS = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION

JobObjectBasicAccountingInformation = 1
JobObjectBasicProcessIdList = 3
JobObjectExtendedLimitInformation = 9

PROCESS_TERMINATE = 0x0001
PROCESS_SET_QUOTA = 0x0100
ERROR_MORE_DATA = 234

#: exit code of every process ended by TerminateJobObject (what ``kill`` reports on Windows)
TERMINATED_EXIT_CODE = 1


#: DWORD is 32 bits on every Windows ABI; ``wintypes.DWORD`` is ``c_ulong``, 64-bit on Linux, so
#: the layouts use fixed-width types and the size test means the same on both.
DWORD = ctypes.c_uint32

# -- structures (documented layouts; sizes asserted in tests/unit/soakctl/test_winjob.py) -----
class JOBOBJECT_BASIC_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = (
        ("PerProcessUserTimeLimit", ctypes.c_int64),  # LARGE_INTEGER
        ("PerJobUserTimeLimit", ctypes.c_int64),
        ("LimitFlags", DWORD),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", DWORD),
        ("Affinity", ctypes.c_size_t),  # ULONG_PTR
        ("PriorityClass", DWORD),
        ("SchedulingClass", DWORD),
    )


class IO_COUNTERS(ctypes.Structure):
    _fields_ = (
        ("ReadOperationCount", ctypes.c_uint64),
        ("WriteOperationCount", ctypes.c_uint64),
        ("OtherOperationCount", ctypes.c_uint64),
        ("ReadTransferCount", ctypes.c_uint64),
        ("WriteTransferCount", ctypes.c_uint64),
        ("OtherTransferCount", ctypes.c_uint64),
    )


class JOBOBJECT_EXTENDED_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = (
        ("BasicLimitInformation", JOBOBJECT_BASIC_LIMIT_INFORMATION),
        ("IoInfo", IO_COUNTERS),
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    )


class JOBOBJECT_BASIC_ACCOUNTING_INFORMATION(ctypes.Structure):
    _fields_ = (
        ("TotalUserTime", ctypes.c_int64),
        ("TotalKernelTime", ctypes.c_int64),
        ("ThisPeriodTotalUserTime", ctypes.c_int64),
        ("ThisPeriodTotalKernelTime", ctypes.c_int64),
        ("TotalPageFaultCount", DWORD),
        ("TotalProcesses", DWORD),
        ("ActiveProcesses", DWORD),
        ("TotalTerminatedProcesses", DWORD),
    )


def process_id_list_type(capacity: int) -> type[ctypes.Structure]:
    """``JOBOBJECT_BASIC_PROCESS_ID_LIST`` with room for ``capacity`` ids.

    The C struct ends in ``ULONG_PTR ProcessIdList[1]`` and is used with a larger buffer; the
    header is two DWORDs (8 bytes), so the size is ``8 + capacity * sizeof(ULONG_PTR)``.
    """

    class JOBOBJECT_BASIC_PROCESS_ID_LIST(ctypes.Structure):
        _fields_ = (
            ("NumberOfAssignedProcesses", DWORD),
            ("NumberOfProcessIdsInList", DWORD),
            ("ProcessIdList", ctypes.c_size_t * capacity),
        )

    return JOBOBJECT_BASIC_PROCESS_ID_LIST


class JobError(Exception):
    """A job object call failed; ``winerror`` is ``GetLastError()`` when known."""

    def __init__(self, message: str, winerror: int | None = None) -> None:
        super().__init__(message)
        self.winerror = winerror


# -- kernel32, loaded on first use ------------------------------------------------------------
_kernel32: Any = None


def _k32() -> Any:
    global _kernel32
    if _kernel32 is None:
        dll = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
        handle, dword, boolean = wintypes.HANDLE, wintypes.DWORD, wintypes.BOOL
        for name, argtypes, restype in (
            ("CreateJobObjectW", (ctypes.c_void_p, wintypes.LPCWSTR), handle),
            ("SetInformationJobObject", (handle, ctypes.c_int, ctypes.c_void_p, dword), boolean),
            ("QueryInformationJobObject",
             (handle, ctypes.c_int, ctypes.c_void_p, dword, ctypes.POINTER(dword)), boolean),
            ("AssignProcessToJobObject", (handle, handle), boolean),
            ("TerminateJobObject", (handle, ctypes.c_uint), boolean),
            ("OpenProcess", (dword, boolean, dword), handle),
            ("TerminateProcess", (handle, ctypes.c_uint), boolean),
            ("CloseHandle", (handle,), boolean),
        ):
            func = getattr(dll, name)
            func.argtypes = argtypes
            func.restype = restype
        _kernel32 = dll
    return _kernel32


def _fail(what: str) -> JobError:
    code = ctypes.get_last_error()  # type: ignore[attr-defined,unused-ignore]
    message = ctypes.FormatError(code).strip()  # type: ignore[attr-defined,unused-ignore]
    return JobError(f"{what}: {message} (error {code})", code)


class JobObject:
    """One anonymous kill-on-close job; :meth:`close` (or soakctl's death) ends its members."""

    def __init__(self) -> None:
        k32 = _k32()
        handle = k32.CreateJobObjectW(None, None)
        if not handle:
            raise _fail("CreateJobObject")
        self._handle: int | None = handle
        info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION()
        info.BasicLimitInformation.LimitFlags = JOB_LIMIT_FLAGS
        if not k32.SetInformationJobObject(handle, JobObjectExtendedLimitInformation,
                                           ctypes.byref(info), ctypes.sizeof(info)):
            error = _fail("SetInformationJobObject(kill on close)")
            self.close()
            raise error

    @property
    def handle(self) -> int:
        if self._handle is None:
            raise JobError("job object already closed")
        return self._handle

    def assign(self, pid: int) -> None:
        """Put process ``pid`` (and, from now on, every child it creates) in the job."""
        k32 = _k32()
        proc = k32.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, False, pid)
        if not proc:
            raise _fail(f"OpenProcess({pid})")
        try:
            if not k32.AssignProcessToJobObject(self.handle, proc):
                raise _fail(f"AssignProcessToJobObject({pid})")
        finally:
            k32.CloseHandle(proc)

    def pids(self) -> list[int]:
        """Every process in the job now (nested jobs' members included)."""
        k32 = _k32()
        capacity = 64
        while True:
            buf = process_id_list_type(capacity)()
            ok = k32.QueryInformationJobObject(self.handle, JobObjectBasicProcessIdList,
                                               ctypes.byref(buf), ctypes.sizeof(buf), None)
            if ok:
                return [int(p) for p in buf.ProcessIdList[: buf.NumberOfProcessIdsInList]]
            if ctypes.get_last_error() != ERROR_MORE_DATA:  # type: ignore[attr-defined,unused-ignore]
                raise _fail("QueryInformationJobObject(process id list)")
            capacity = max(capacity * 2, int(buf.NumberOfAssignedProcesses) + 16)

    def accounting(self) -> JOBOBJECT_BASIC_ACCOUNTING_INFORMATION:
        """Totals since the job was created (``TotalProcesses`` counts every member ever)."""
        info = JOBOBJECT_BASIC_ACCOUNTING_INFORMATION()
        if not _k32().QueryInformationJobObject(self.handle, JobObjectBasicAccountingInformation,
                                                ctypes.byref(info), ctypes.sizeof(info), None):
            raise _fail("QueryInformationJobObject(accounting)")
        return info

    def terminate(self, exit_code: int = TERMINATED_EXIT_CODE) -> None:
        """End every process in the job now (the job itself stays usable)."""
        if not _k32().TerminateJobObject(self.handle, exit_code):
            raise _fail("TerminateJobObject")

    def close(self) -> None:
        """Close soakctl's handle: with kill-on-close, every remaining member is terminated."""
        if self._handle is not None:
            _k32().CloseHandle(self._handle)
            self._handle = None


def _terminate_pid(pid: int) -> None:
    k32 = _k32()
    proc = k32.OpenProcess(PROCESS_TERMINATE, False, pid)
    if proc:
        k32.TerminateProcess(proc, TERMINATED_EXIT_CODE)
        k32.CloseHandle(proc)


class JobSet:
    """The supervisor's jobs, one per supervised name (a restarted target rejoins its job)."""

    def __init__(self) -> None:
        self._jobs: dict[str, JobObject] = {}

    def popen_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Popen ``kwargs`` plus ``CREATE_SUSPENDED`` (the process waits for :meth:`admit`)."""
        flags = int(kwargs.get("creationflags", 0)) | CREATE_SUSPENDED
        return {**kwargs, "creationflags": flags}

    def admit(self, name: str, popen: subprocess.Popen[bytes]) -> None:
        """Assign the suspended ``popen`` to ``name``'s job, then let it run.

        On failure the process is terminated before it ran a single instruction and
        :class:`JobError` says why (the caller turns it into a start failure).
        """
        try:
            job = self._jobs.get(name)
            if job is None:
                job = self._jobs[name] = JobObject()
            job.assign(popen.pid)
        except JobError:
            _terminate_pid(popen.pid)
            raise
        try:
            psutil.Process(popen.pid).resume()
        except psutil.Error as exc:
            _terminate_pid(popen.pid)
            raise JobError(f"cannot resume process {popen.pid}: {exc}") from exc

    def pids(self, name: str) -> list[int]:
        """The processes in ``name``'s job now; [] when unknown or on error (logged)."""
        job = self._jobs.get(name)
        if job is None:
            return []
        try:
            return job.pids()
        except JobError as exc:
            logger.warning("cannot list the processes of job %r: %s", name, exc)
            return []

    def terminate(self, name: str) -> None:
        """``TerminateJobObject`` on ``name``'s job: the hard end of a stop."""
        job = self._jobs.get(name)
        if job is None:
            return
        try:
            job.terminate()
        except JobError as exc:
            logger.warning("cannot terminate job %r: %s", name, exc)

    def sweep(self) -> list[int]:
        """Terminate every job that still has members; return the pids that were in them."""
        leftovers: list[int] = []
        for name in self._jobs:
            pids = self.pids(name)
            if pids:
                leftovers.extend(pids)
                self.terminate(name)
        return sorted(leftovers)

    def close(self) -> None:
        """Close every job handle; kill-on-close ends whatever is still in them."""
        for job in self._jobs.values():
            job.close()
        self._jobs.clear()


class NullJobSet(JobSet):
    """Where there are no job objects (POSIX): every hook does nothing."""

    def popen_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return kwargs

    def admit(self, name: str, popen: subprocess.Popen[bytes]) -> None:
        return None

    def pids(self, name: str) -> list[int]:
        return []

    def terminate(self, name: str) -> None:
        return None

    def sweep(self) -> list[int]:
        return []


def job_set() -> JobSet:
    """Jobs on Windows, nothing elsewhere."""
    return JobSet() if WINDOWS else NullJobSet()
