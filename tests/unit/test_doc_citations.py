"""Every citation in code and docs points at a section that exists in the project's own docs.

A citation is ``docs/<file>.md §<N>`` (more sections may follow: ``§2, §4`` or ``§3 and §7``),
where ``## N. ...`` is a heading of that file. Citing a document outside the repository (the
old ``SPEC §N`` or a bare ``bybit-v5.md §N`` outside docs/) fails: users cannot follow it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("soakctl", "checks", "bot", "soakkit", "tests", "benchmarks")

CITATION = re.compile(r"docs/([\w.-]+?)\.md\s+§(\d+)((?:(?:,\s*|\s+and\s+|/|–)§\d+)*)")
MORE = re.compile(r"§(\d+)")
HEADING = re.compile(r"^## (\d+)\. ", re.MULTILINE)
OUTSIDE = re.compile("SPEC" + r"\s+§\d|(?<![\w/-])bybit-v5\.md\s+§\d|/work/" + "shared")
BARE_IN_DOCS = re.compile(r"(?<![\w/-])([\w-]+)\.md\s+§(\d+)")


def sources() -> list[Path]:
    files = [p for top in SCANNED if (REPO / top).is_dir() for p in (REPO / top).rglob("*.py")]
    files += [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]
    # This file's own examples are meant to be broken.
    return [p for p in files if p != Path(__file__).resolve()]


@cache
def sections(doc: str) -> frozenset[int]:
    path = REPO / "docs" / f"{doc}.md"
    if not path.is_file():
        return frozenset()
    return frozenset(int(n) for n in HEADING.findall(path.read_text(encoding="utf-8")))


def citations(text: str) -> list[tuple[int, str, int]]:
    """``(line, doc, section)`` for every ``docs/<doc>.md §N`` (and the ``§M`` that follow)."""
    out = []
    for m in CITATION.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        for n in [m.group(2), *MORE.findall(m.group(3))]:
            out.append((line, m.group(1), int(n)))
    return out


def problems(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(REPO)
    found = []
    for line, doc, n in citations(text):
        if not (REPO / "docs" / f"{doc}.md").is_file():
            found.append(f"{rel}:{line}: cites docs/{doc}.md, which does not exist")
        elif n not in sections(doc):
            found.append(f"{rel}:{line}: cites docs/{doc}.md §{n}, which has no '## {n}.'")
    in_docs = rel.parts[0] == "docs"
    for m in OUTSIDE.finditer(text):
        if in_docs and m.group(0).startswith("bybit-v5"):
            continue  # a sibling page, checked below
        line = text.count("\n", 0, m.start()) + 1
        found.append(f"{rel}:{line}: cites {m.group(0)!r}, a document outside the project")
    if in_docs:  # inside docs/, a sibling may be cited by its bare name
        for m in BARE_IN_DOCS.finditer(text):
            doc, n = m.group(1), int(m.group(2))
            if text[max(0, m.start() - 5):m.start()].endswith("docs/"):
                continue
            if n not in sections(doc):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{rel}:{line}: cites {doc}.md §{n}, which does not exist")
    return found


def test_every_citation_points_at_an_existing_section() -> None:
    found = [problem for path in sources() for problem in problems(path)]
    assert found == []


def test_the_cited_documents_are_numbered() -> None:
    assert set(range(1, 10)) <= sections("bybit-v5")
    assert {3, 4, 5, 6, 7, 8, 9} <= sections("cli")
    assert {1, 2, 3, 4, 5, 6, 7} <= sections("run-files")


@pytest.mark.parametrize(("text", "expected"), [
    ("see docs/cli.md §7.", [(1, "cli", 7)]),
    ("(docs/bybit-v5.md §2, §4, §7)", [(1, "bybit-v5", 2), (1, "bybit-v5", 4),
                                      (1, "bybit-v5", 7)]),
    ("docs/cli.md §3 and §7 promise", [(1, "cli", 3), (1, "cli", 7)]),
    ("a\n(docs/bybit-v5.md\n§1)", [(2, "bybit-v5", 1)]),
    ("no citation here, docs/cli.md alone", []),
])
def test_citations_are_found(text: str, expected: list[tuple[int, str, int]]) -> None:
    assert citations(text) == expected


def test_broken_and_outside_citations_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "cli.md").write_text("# CLI\n\n## 3. Commands\n")
    code = tmp_path / "soakctl" / "m.py"
    code.parent.mkdir()
    code.write_text('"""See docs/cli.md §3, docs/cli.md §4, docs/nope.md §1.\n\n'
                    "Also " + "SPEC" + " §3 and bybit-v5" + ".md §2.\"\"\"\n")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    sections.cache_clear()
    try:
        found = problems(code)
    finally:
        sections.cache_clear()
    assert found == [
        "soakctl/m.py:1: cites docs/cli.md §4, which has no '## 4.'",
        "soakctl/m.py:1: cites docs/nope.md, which does not exist",
        "soakctl/m.py:3: cites 'SPEC §3', a document outside the project",
        "soakctl/m.py:3: cites 'bybit-v5.md §2', a document outside the project",
    ]
