"""``log-lint``: the logs already under the artifacts directory are ASCII with sane line lengths.

Earlier runs' logs are the evidence of what the target writes; a non-ASCII byte there breaks
the log tooling downstream (and on Windows consoles), an endless line is usually a dumped
payload. Uses the streaming lint core of ``soakctl logs lint`` (constant memory, GB/s).
"""

from __future__ import annotations

from checks.base import Check, Outcome
from checks.context import CheckContext
from soakctl.logtools import log_files
from soakctl.logtools.lint import lint_paths


class LogLintCheck(Check):
    name = "log-lint"
    description = "existing logs under the artifacts directory are ASCII, lines within limit"
    timeout_s = 30.0

    def run(self, ctx: CheckContext) -> Outcome:
        root = ctx.resolve(ctx.artifacts_dir)
        if not root.is_dir():
            return Outcome.ok(f"no logs yet ({root} does not exist)")
        files = log_files([root])
        if not files:
            return Outcome.ok(f"no logs yet under {root}")
        result = lint_paths(files, max_findings=5)
        size_mb = sum(f.size_bytes for f in result.files) / 1e6
        if result.ok:
            return Outcome.ok(f"{len(files)} log file(s), {size_mb:.1f} MB: all ASCII")
        shown = "; ".join(
            f"{f.path}:{f.line}:{f.col}: {f.message(result.max_line_length)}"
            for f in result.findings[:3]
        )
        return Outcome.fail(
            f"{result.total_findings} finding(s) in {len(files)} log file(s): {shown}",
            fix=f"soakctl logs lint {root} for all positions; make the target log ASCII "
            "(escape or transliterate) and cap line sizes",
            findings=result.total_findings,
        )
