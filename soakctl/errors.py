"""The errors soakctl raises, and how the CLI maps them to exit codes.

Faults are exceptions; outcomes (a failed check, a detected leak) are data. Every subsystem
raises a subclass of :class:`SoakError`; third-party errors are wrapped at the boundary with
``raise ... from e``. The CLI catches ``SoakError`` once and prints ``str(err)`` as one line.

    SoakError                      exit 2 unless a subclass says otherwise
    ├── UsageError                 bad flags, bad profile, bad input file       (exit 2)
    │   ├── ProfileError           a profile key is missing, unknown or invalid (exit 2)
    │   └── InputError             analysis input unreadable or empty           (exit 2)
    └── SupervisorError            a target or service could not be started     (exit 2)
"""

from __future__ import annotations


class SoakError(Exception):
    """Base of every soakctl error; ``exit_code`` is what the CLI exits with."""

    exit_code: int = 2


class UsageError(SoakError):
    """The user asked for something that cannot be done as asked."""


class ProfileError(UsageError):
    """A profile (``workflows/*.yaml``) is invalid; the message names the file and key path."""


class InputError(UsageError):
    """An input file (samples, logs) cannot be used; the message names the file and line."""


class SupervisorError(SoakError):
    """A supervised process or service could not be started or made ready."""
