"""Dependency direction: strategies/ -> candlebot/ <- exchanges/ <- collector/, with one assembly module that
imports them all (ARCHITECTURE.md). Read from the source with ast: no import is executed."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

CORE = REPO / "candlebot"
OUTER = ("strategies", "exchanges", "collector")  # candlebot/<name> links to ../<name>: not core
ASSEMBLY = "candlebot/assembly.py"
ALLOWED = {
    # the Kraken adapter owns its flags (--key-file, --kraken-url, ...); every command builds its parser from
    # cli/args.py, and importing the assembly there would load every strategy and exchange for `candlebot status`
    "candlebot/cli/args.py": {"candlebot.exchanges.kraken.config"},
}


def _core_modules() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py") if p.relative_to(CORE).parts[0] not in OUTER)


def _is_outer(name: str) -> bool:
    parts = name.split(".")
    return parts[0] in OUTER or (parts[0] == "candlebot" and len(parts) > 1 and parts[1] in OUTER)


def _outer_imports(path: Path) -> set[str]:
    """Absolute imports of candlebot.strategies/exchanges/collector (or the bare top-level names) in one file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if _is_outer(alias.name)}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _is_outer(node.module):
                found.add(node.module)
            else:  # from candlebot import exchanges
                found |= {f"{node.module}.{a.name}" for a in node.names if _is_outer(f"{node.module}.{a.name}")}
    return found


def test_only_the_assembly_imports_strategies_exchanges_and_collector():
    modules = _core_modules()
    assert len(modules) > 50 and not any(p.relative_to(CORE).parts[0] in OUTER for p in modules)

    imports = {str(p.relative_to(REPO)): _outer_imports(p) for p in modules}
    offenders = {path: names - ALLOWED.get(path, set()) for path, names in imports.items() if path != ASSEMBLY}

    assert {path: names for path, names in offenders.items() if names} == {}
    assert imports[ASSEMBLY] >= {"candlebot.strategies", "candlebot.exchanges.backtest", "candlebot.exchanges.paper"}
    assert all(imports[path] for path in ALLOWED), "an allowlist entry that no longer imports anything: remove it"


def test_the_check_sees_every_way_of_importing_them(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import strategies\nimport candlebot.exchanges.paper as p\nfrom candlebot.collector import x\n"
                      "from candlebot import exchanges\nfrom . import strategies\nimport candlebot.chart\n")

    assert _outer_imports(sample) == {"strategies", "candlebot.exchanges.paper", "candlebot.collector", "candlebot.exchanges"}
