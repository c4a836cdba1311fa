"""Writers of the human- and CI-facing outputs of an analysis.

``report.html`` (one self-contained page, ``html``), ``summary.md`` (GitHub step summary,
``markdown``) and ``junit.xml`` (criteria as test cases, ``junit``). Each writer takes an
:class:`~soakctl.analyze.analysis.Analysis` and returns text; :func:`write_reports` writes all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from soakctl.report.html import render_html
from soakctl.report.junit import render_junit
from soakctl.report.markdown import render_markdown
from soakkit.atomic import write_text_atomic

if TYPE_CHECKING:
    from soakctl.analyze.analysis import Analysis

__all__ = ["render_html", "render_junit", "render_markdown", "write_reports"]


def write_reports(analysis: Analysis, out_dir: Path) -> None:
    write_text_atomic(out_dir / "report.html", render_html(analysis))
    write_text_atomic(out_dir / "summary.md", render_markdown(analysis))
    write_text_atomic(out_dir / "junit.xml", render_junit(analysis))
