"""Leak analysis, criteria, baseline comparison and verdict for a soak run.

Contract: analysis.json in docs/run-files.md §5, criteria in docs/cli.md §6.

Public API: :func:`analyze_path` (what ``soakctl analyze`` and ``soakctl run`` call) and
:class:`Analysis` (its result). The package splits into ``loader`` (resources.jsonl ->
columns), ``rundir`` (run.json, events, logs), ``trend`` (robust statistics), ``leak`` (the
detector's pipeline) with ``steps`` (warm-up, level shifts) and ``windows`` (the decision),
``stats``, ``criteria``, ``baseline`` and ``analysis`` (the orchestration).
"""

from __future__ import annotations

from soakctl.analyze.analysis import Analysis, analyze_path

__all__ = ["Analysis", "analyze_path"]
