"""The errors soakctl raises, and how the CLI maps them to exit codes.

Faults are exceptions; outcomes (a failed check, a detected leak) are data. Every subsystem
raises a subclass of :class:`SoakError`; third-party errors are wrapped at the boundary with
``raise ... from e``. The CLI catches ``SoakError`` once and prints ``str(err)`` as one line.

    SoakError                      exit 2 unless a subclass says otherwise
    ├── UsageError                 bad flags, bad profile, bad input file       (exit 2)
    │   ├── ProfileError           a profile key is missing, unknown or invalid (exit 2)
    │   ├── InputError             analysis input unreadable or empty           (exit 2)
    │   └── PathError              a path missing, not a directory, not writable,
    │                              on a read-only or full file system           (exit 2)
    ├── WriteFailed                a run's own file could not be written after
    │                              the run started: the verdict is affected     (exit 1)
    └── SupervisorError            a target or service could not be started     (exit 2)

An ``OSError`` that reaches the CLI edge unwrapped is printed the same way as a ``PathError``
(its file name and the OS's reason, one line, exit 2): a bad path is bad input, never an
"internal error".
"""

from __future__ import annotations

import errno
import os


class SoakError(Exception):
    """Base of every soakctl error; ``exit_code`` is what the CLI exits with."""

    exit_code: int = 2


class UsageError(SoakError):
    """The user asked for something that cannot be done as asked."""


class ProfileError(UsageError):
    """A profile (``workflows/*.yaml``) is invalid; the message names the file and key path."""


class InputError(UsageError):
    """An input file (samples, logs) cannot be used; the message names the file and line."""


class PathError(UsageError):
    """A path given to a command cannot be used; the message names the path and the reason."""

    @classmethod
    def from_os_error(cls, what: str, path: os.PathLike[str] | str, exc: OSError) -> PathError:
        return cls(f"{what} {os.fspath(path)}: {describe_os_error(exc)}")


class WriteFailed(SoakError):
    """A file of a run that already started could not be written (disk full, file too large,
    file system gone read-only). What was written before stays valid; the run stops."""

    exit_code = 1

    def __init__(self, path: os.PathLike[str] | str, exc: OSError) -> None:
        self.path = os.fspath(path)
        self.reason = describe_os_error(exc)
        super().__init__(f"cannot write {self.path}: {self.reason}")


_HINTS = {
    errno.ENOSPC: "the file system is full",
    errno.EFBIG: "file too large (a file size limit, ulimit -f, or the file system's maximum)",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a file is in the way where a directory is needed",
    errno.EISDIR: "it is a directory",
    errno.ENOENT: "no such file or directory",
    errno.EEXIST: "it already exists",
}


def describe_os_error(exc: OSError) -> str:
    """The reason of ``exc`` in words a user acts on (never a traceback)."""
    hint = _HINTS.get(exc.errno or -1)
    return hint or exc.strerror or type(exc).__name__


class SupervisorError(SoakError):
    """A supervised process or service could not be started or made ready."""
