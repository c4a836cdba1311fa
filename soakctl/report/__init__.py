"""Writers of the human- and CI-facing outputs of an analysis.

``report.html`` (one self-contained page, ``html``), ``summary.md`` (GitHub step summary,
``markdown``) and ``junit.xml`` (criteria as test cases, ``junit``). Each writer takes an
:class:`~soakctl.analyze.analysis.Analysis` and returns text; :func:`write_reports` writes all.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from soakctl.report.html import render_html
from soakctl.report.junit import render_junit
from soakctl.report.markdown import render_markdown

if TYPE_CHECKING:
    from soakctl.analyze.analysis import Analysis

__all__ = ["render_html", "render_junit", "render_markdown", "write_reports"]


def _atomic_write(path: Path, text: str | bytes) -> None:
    """Write then rename: a failed write (disk full) leaves the previous file, or none."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_reports(analysis: Analysis, out_dir: Path) -> None:
    _atomic_write(out_dir / "report.html", render_html(analysis))
    _atomic_write(out_dir / "summary.md", render_markdown(analysis))
    _atomic_write(out_dir / "junit.xml", render_junit(analysis))
