"""``artifacts-dir``: the run directory's parent can be created and written.

Tried for real: a temporary file is created (and removed) in the artifacts directory, or in its
nearest existing parent when the run would create it. Anything in the way (a file where a
directory should be, a read-only mount, missing permissions) shows up here, not at hour 0.
"""

from __future__ import annotations

import tempfile

from checks.base import Check, Outcome
from checks.context import CheckContext
from checks.disk_space import existing_ancestor


class ArtifactsWritableCheck(Check):
    name = "artifacts-dir"
    description = "the log/artifact directory can be created and written"
    timeout_s = 5.0

    def run(self, ctx: CheckContext) -> Outcome:
        target = ctx.resolve(ctx.artifacts_dir)
        base = existing_ancestor(target)
        if not base.is_dir():
            return Outcome.fail(
                f"cannot create {target}: {base} is a file, not a directory",
                fix=f"move {base} away or choose another --out",
            )
        try:
            with tempfile.NamedTemporaryFile(dir=base, prefix=".soakctl-verify-"):
                pass
        except OSError as exc:
            return Outcome.fail(
                f"cannot write in {base}: {exc.strerror or exc}",
                fix=f"fix the permissions of {base} or choose another --out",
            )
        exists = "exists" if base == target else f"will be created under {base}"
        return Outcome.ok(f"{target} {exists} and is writable", path=str(target))
