"""Where a run's generated credentials live: a private directory outside the run directory.

A soak of the bundled bot makes throwaway API credentials for the run (the simulator writes a
random pair, the bot and the after-checks read it). They must never end up in the run
directory, which workflows upload as an artifact: pointed at real keys, the same mechanism
would publish them. So the profile names ``{secrets_dir}``, a fresh ``0700`` directory from
:func:`tempfile.mkdtemp` (the user's private temp directory on Windows), made the first time the
placeholder is used, and the run removes it when it ends, on error too. Its name carries
soakctl's pid (``soakctl-secrets-<pid>-*``): if soakctl is killed before it can remove it,
``soakctl cleanup`` does, once that pid is gone. A ``secrets/`` directory inside the run
directory (profiles written before ``{secrets_dir}`` existed used ``{run_dir}/secrets``) is
removed at the same moment.
Workflows also exclude ``**/secrets/**`` from every upload, in case a run was killed before it
could clean up.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

LEGACY_DIR_NAME = "secrets"
PREFIX = "soakctl-secrets-"


def prefix_for(pid: int) -> str:
    """Name prefix of the credentials directories made by soakctl process ``pid``."""
    return f"{PREFIX}{pid}-"


class RunSecrets:
    """The run's credentials directory, made on first use; :meth:`remove` deletes it and any
    in-run ``secrets/``."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path

    @classmethod
    def create(cls) -> RunSecrets:
        """A directory made now (see :meth:`lazy` for one made when first needed)."""
        secrets = cls()
        secrets.ensure()
        return secrets

    @classmethod
    def lazy(cls) -> RunSecrets:
        return cls()

    @property
    def path(self) -> Path | None:
        """The directory if it exists (made and not yet removed), else None."""
        return self._path

    @property
    def created(self) -> bool:
        return self._path is not None

    def ensure(self) -> str:
        """The directory's path, creating it (0700, in the temp directory) on first call."""
        if self._path is None:
            self._path = Path(tempfile.mkdtemp(prefix=prefix_for(os.getpid())))
        return str(self._path)

    def remove(self, run_dir: Path | None = None) -> list[Path]:
        """Delete the credentials; return the directories that could not be removed (logged)."""
        failed: list[Path] = []
        targets = [self._path] if self._path is not None else []
        if run_dir is not None:
            targets.append(run_dir / LEGACY_DIR_NAME)
        self._path = None
        for path in targets:
            if not path.exists():
                continue
            shutil.rmtree(path, ignore_errors=True)
            if path.exists():
                logger.warning("could not remove the run's credentials directory %s", path)
                failed.append(path)
        return failed


def remove_orphaned(pid: int) -> list[Path]:
    """Delete the credentials directories soakctl process ``pid`` left in the temp directory
    (it was killed before its own clean-up); the caller made sure ``pid`` is gone."""
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{prefix_for(pid)}*"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(path)
    return removed
