"""The layering rules, checked on the source with ``ast`` (docs/architecture.md):

* ``soakctl/`` never imports ``bot/`` (the supervisor knows nothing of its bundled target);
* ``bot/`` never imports ``soakctl/`` or ``checks/`` (the bot ships and runs on its own);
* ``bot/sim/`` never imports the bot's trading modules (the simulator is an exchange, not a
  client: sharing the bot's order logic would make it agree with the bot's bugs);
* ``soakkit/`` (helpers both sides share) imports none of soakctl, checks or bot.

Imports inside functions count too; ``from bot import runner`` counts as importing
``bot.runner``; relative imports are resolved against the importing module's package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TRADING = ("bot.runner", "bot.orders", "bot.strategy", "bot.risk", "bot.ledger", "bot.book",
           "bot.venue", "bot.venues", "bot.metrics")


@dataclass(frozen=True)
class Rule:
    where: str  # a package directory, relative to the repository
    forbidden: tuple[str, ...]  # module prefixes it must not import
    why: str


RULES = (
    Rule("soakctl", ("bot",), "soakctl/ never imports bot/"),
    Rule("bot", ("soakctl", "checks"), "bot/ never imports soakctl/ or checks/"),
    Rule("bot/sim", TRADING, "bot/sim/ never imports the bot's trading modules"),
    Rule("soakkit", ("soakctl", "checks", "bot"), "soakkit/ imports none of soakctl, checks, bot"),
)


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """``(line, dotted name)`` of every module ``source`` may import, submodules included."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                prefix = ".".join(base)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def breaks(name: str, forbidden: tuple[str, ...]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


def violations(rule: Rule, root: Path = REPO) -> list[str]:
    found = []
    for path in sorted((root / rule.where).rglob("*.py")):
        module = module_name(path, root)
        source = path.read_text(encoding="utf-8")
        for line, name in imported_modules(source, module, path.name == "__init__.py"):
            if breaks(name, rule.forbidden):
                found.append(f"{path.relative_to(root)}:{line} imports {name} ({rule.why})")
    return sorted(set(found))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.where)
def test_import_rule_holds(rule: Rule) -> None:
    assert (REPO / rule.where).is_dir()
    assert violations(rule) == []


def test_the_checker_sees_every_form_of_import(tmp_path: Path) -> None:
    pkg = tmp_path / "bot" / "sim"
    pkg.mkdir(parents=True)
    (tmp_path / "bot" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from .. import orders\n")
    (pkg / "a.py").write_text(
        "import bot.book\n"
        "from bot import ledger, secrets\n"
        "from ..venues.bybit import http\n"
        "def late():\n"
        "    from bot.metrics import Metrics\n"
        "from bot.redact import RedactionFilter\n"
        "from bot.sim.state import Book\n"
    )
    rule = Rule("bot/sim", TRADING, "sim")
    found = violations(rule, tmp_path)
    assert found == [
        "bot/sim/__init__.py:1 imports bot.orders (sim)",
        "bot/sim/a.py:1 imports bot.book (sim)",
        "bot/sim/a.py:2 imports bot.ledger (sim)",
        "bot/sim/a.py:3 imports bot.venues.bybit (sim)",
        "bot/sim/a.py:3 imports bot.venues.bybit.http (sim)",
        "bot/sim/a.py:5 imports bot.metrics (sim)",
        "bot/sim/a.py:5 imports bot.metrics.Metrics (sim)",
    ]


def test_prefixes_match_whole_names_only() -> None:
    assert breaks("bot.venues.bybit", TRADING)
    assert not breaks("bot.venue_names", TRADING)
    assert not breaks("botany", ("bot",))
