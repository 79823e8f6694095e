"""A strategy is built from ``candlebot.strategy`` alone: that package and the shipped strategies import nothing that
holds the books or the order path (trader, ledger, store, exchanges), so there is no trading <-> strategy cycle
(issue 19 item 4) and nothing a strategy imports hands it the books (issue 18). Read with ast: nothing is executed."""

from __future__ import annotations

import ast

from tests.conftest import REPO

FORBIDDEN = ("candlebot.trading", "candlebot.live", "candlebot.exchanges", "candlebot.output", "candlebot.assembly",
             "candlebot.cli")


def _imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found |= {node.module or ""} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_strategy_package_and_the_shipped_strategies_import_no_part_of_the_order_path():
    files = sorted((REPO / "candlebot" / "strategy").glob("*.py")) + sorted((REPO / "strategies").glob("*.py"))
    offenders = {str(path.relative_to(REPO)): sorted(m for m in _imports(path) if m.startswith(FORBIDDEN))
                 for path in files}
    assert len(files) > 10 and {k: v for k, v in offenders.items() if v} == {}
