"""Where a run's generated credentials live: a private directory outside the run directory.

A soak of the bundled bot makes throwaway API credentials for the run (the simulator writes a
random pair, the bot and the after-checks read it). They must never end up in the run
directory, which workflows upload as an artifact: pointed at real keys, the same mechanism
would publish them. So the profile names ``{secrets_dir}``, a fresh ``0700`` directory from
:func:`tempfile.mkdtemp` (the user's private temp directory on Windows), and the run removes it
when it ends, on error too. A ``secrets/`` directory inside the run directory (profiles written
before ``{secrets_dir}`` existed used ``{run_dir}/secrets``) is removed at the same moment.
Workflows also exclude ``**/secrets/**`` from every upload, in case a run was killed before it
could clean up.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

LEGACY_DIR_NAME = "secrets"


class RunSecrets:
    """The run's credentials directory; :meth:`remove` deletes it and any in-run ``secrets/``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls) -> RunSecrets:
        return cls(Path(tempfile.mkdtemp(prefix="soakctl-secrets-")))

    def remove(self, run_dir: Path | None = None) -> list[Path]:
        """Delete the credentials; return the directories that could not be removed (logged)."""
        failed: list[Path] = []
        targets = [self.path]
        if run_dir is not None:
            targets.append(run_dir / LEGACY_DIR_NAME)
        for path in targets:
            if not path.exists():
                continue
            shutil.rmtree(path, ignore_errors=True)
            if path.exists():
                logger.warning("could not remove the run's credentials directory %s", path)
                failed.append(path)
        return failed
