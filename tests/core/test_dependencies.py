"""Dependency direction: strategies/ -> candlebot/ <- exchanges/ <- collector/, with one assembly module that
imports them all (ARCHITECTURE.md). Read from the source with ast: no import is executed."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

CORE = REPO / "candlebot"
OUTER = ("strategies", "exchanges", "collector")  # candlebot/<name> links to ../<name>: not core
ASSEMBLY = "candlebot/assembly/"
ALLOWED = {
    # the Kraken adapter owns its flags (--key-file, --kraken-url, ...) and how they become its config; every command
    # builds its parser from cli/args.py, and importing the assembly there would load every strategy and exchange
    # for `candlebot status`
    "candlebot/cli/args.py": {"candlebot.exchanges.kraken.config"},
}


def _core_modules() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py") if p.relative_to(CORE).parts[0] not in OUTER)


def _outer_package(name: str) -> str | None:
    """Which of strategies/exchanges/collector ``name`` is in (bare or under candlebot), if any."""
    parts = name.split(".")
    if parts[0] in OUTER:
        return parts[0]
    return parts[1] if parts[0] == "candlebot" and len(parts) > 1 and parts[1] in OUTER else None


def _package_of(path: Path) -> str:
    """The dotted package a file in the repository imports relatively from (``exchanges/x.py``: candlebot.exchanges)."""
    parts = path.relative_to(REPO).parent.parts
    return ".".join(parts if parts[0] == "candlebot" else ("candlebot", *parts))


def _outer_imports(path: Path, package: str = "") -> set[str]:
    """Imports of candlebot.strategies/exchanges/collector (or the bare top-level names) in one file, relative
    ones resolved against ``package`` (the file's own)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if _outer_package(alias.name)}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if not package:
                    continue
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if _outer_package(module):
                found.add(module)
            else:  # from candlebot import exchanges
                found |= {f"{module}.{a.name}" for a in node.names if _outer_package(f"{module}.{a.name}")}
    return found


def test_only_the_assembly_imports_strategies_exchanges_and_collector():
    modules = _core_modules()
    assert len(modules) > 50 and not any(p.relative_to(CORE).parts[0] in OUTER for p in modules)

    imports = {str(p.relative_to(REPO)): _outer_imports(p, _package_of(p)) for p in modules}
    offenders = {path: names - ALLOWED.get(path, set()) for path, names in imports.items()
                 if not path.startswith(ASSEMBLY)}

    assert {path: names for path, names in offenders.items() if names} == {}
    assembled = set().union(*(names for path, names in imports.items() if path.startswith(ASSEMBLY)))
    assert assembled >= {"candlebot.strategies", "candlebot.exchanges.backtest", "candlebot.exchanges.paper"}
    assert all(imports[path] for path in ALLOWED), "an allowlist entry that no longer imports anything: remove it"


def test_the_check_sees_every_way_of_importing_them(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import strategies\nimport candlebot.exchanges.paper as p\nfrom candlebot.collector import x\n"
                      "from candlebot import exchanges\nfrom . import strategies\nimport candlebot.chart\n")

    assert _outer_imports(sample) == {"strategies", "candlebot.exchanges.paper", "candlebot.collector", "candlebot.exchanges"}
    assert "candlebot.strategies" in _outer_imports(sample, "candlebot")  # in candlebot/x.py: from . import strategies
    relative = tmp_path / "relative.py"
    relative.write_text("from .. import exchanges\nfrom ..collector.read import x\nfrom . import strategies\n")
    assert _outer_imports(relative, "candlebot.live") == {"candlebot.exchanges", "candlebot.collector.read"}


# strategies/ -> candlebot/ <- exchanges/ <- collector/: which outer package each may import besides itself
MAY_IMPORT = {"strategies": set(), "exchanges": set(), "collector": {"exchanges"}}


def test_the_outer_packages_point_one_way():
    offenders = {}
    for name, allowed in MAY_IMPORT.items():
        for path in sorted((REPO / name).rglob("*.py")):
            imported = {_outer_package(module) for module in _outer_imports(path, _package_of(path))}
            wrong = imported - allowed - {name}
            if wrong:
                offenders[str(path.relative_to(REPO))] = wrong
    assert offenders == {}
