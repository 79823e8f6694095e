"""Dependency direction: strategies/ -> candlebot/ <- exchanges/ <- collector/, with one assembly module that
imports them all (ARCHITECTURE.md). Read from the source with ast: no import is executed."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

CORE = REPO / "candlebot"
OUTER = ("strategies", "exchanges", "collector")  # candlebot/<name> links to ../<name>: not core
ASSEMBLY = "candlebot/assembly/"


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
    offenders = {path: names for path, names in imports.items() if not path.startswith(ASSEMBLY)}

    assert {path: names for path, names in offenders.items() if names} == {}
    assembled = set().union(*(names for path, names in imports.items() if path.startswith(ASSEMBLY)))
    assert assembled >= {"candlebot.strategies", "candlebot.exchanges.backtest", "candlebot.exchanges.paper"}


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


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports by absolute name (``import a.b``, ``from a.b import c``: a.b)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module)
    return found


def _product_files() -> list[Path]:
    """Every module that ships: the core and the three outer packages."""
    return [*_core_modules(), *(p for name in OUTER for p in sorted((REPO / name).rglob("*.py")))]


def test_only_the_commands_read_flags():
    """Flags become settings in candlebot/cli/ (every console script lives there); nothing else sees argparse."""
    files = _product_files()
    assert any(p.relative_to(REPO).parts[:2] == ("candlebot", "cli") for p in files)

    offenders = sorted(str(p.relative_to(REPO)) for p in files
                       if "argparse" in {m.split(".")[0] for m in _imports(p)}
                       and p.relative_to(REPO).parts[:2] != ("candlebot", "cli"))
    assert offenders == []


def _runtime_imports(path: Path) -> set[str]:
    """The absolute imports ``path`` executes (not those under ``if TYPE_CHECKING:``), with the names imported
    from each module (``from candlebot import live`` imports the package candlebot.live)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING"
                   for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def _package_graph() -> dict[str, dict[str, set[str]]]:
    """Core subpackage -> the core subpackages it imports -> the imports that make the arrow."""
    packages = {p.name for p in CORE.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name not in OUTER}
    graph: dict[str, dict[str, set[str]]] = {name: {} for name in packages}
    for path in _core_modules():
        source = path.relative_to(CORE).parts[0]
        if source not in packages:
            continue
        for module in _runtime_imports(path):
            parts = module.split(".")
            if parts[0] == "candlebot" and len(parts) > 1 and parts[1] in packages and parts[1] != source:
                graph[source].setdefault(parts[1], set()).add(f"{path.relative_to(REPO)}: {module}")
    return graph


def _cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """The strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_package_cycle_in_the_core():
    """trading, strategy, live, output, data ... form a hierarchy: a cycle is where an edit breaks far away."""
    graph = _package_graph()
    assert {"trading", "strategy", "live", "output", "assembly", "cli"} <= set(graph)

    cycles = _cycles(graph)
    assert cycles == [], {" <-> ".join(c): {a: sorted(graph[a][b]) for a in c for b in c if b in graph[a]} for c in cycles}


def test_the_cycle_check_sees_a_cycle():
    assert _cycles({"a": {"b": set()}, "b": {"c": set()}, "c": {"a": set()}, "d": {"a": set()}}) == [["a", "b", "c"]]


BUILT_BY_THE_ASSEMBLY = frozenset({"Trader", "Engine", "BotRuntime", "KrakenExchange", "PaperExchange", "LiveExchange",
                                   "BacktestExchange"})
MAY_BUILD = ("candlebot/assembly/", "tests/unit/")  # the wiring, and the unit tests of the parts themselves


def _constructions(path: Path) -> set[str]:
    """The names in BUILT_BY_THE_ASSEMBLY that ``path`` calls (``Trader(...)``, ``trader.Trader(...)``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name in BUILT_BY_THE_ASSEMBLY:
                found.add(name)
    return found


def _scripts() -> list[Path]:
    """The repository's other Python: tests, benchmarks (bench/) and tools (deploy/)."""
    return sorted(p for folder in ("tests", "bench", "deploy") for p in (REPO / folder).rglob("*.py"))


def test_only_the_assembly_and_unit_tests_build_traders_engines_runtimes_and_exchanges():
    """Every other test, benchmark and tool builds through the assembly with its venue injected: it proves (or
    measures) something about the bot users run, not about a hand-built one."""
    files = [*_product_files(), *_scripts()]
    built = {str(p.relative_to(REPO)): _constructions(p) for p in files}
    assert built["candlebot/assembly/bot.py"] >= {"Trader", "Engine", "BotRuntime"}
    assert "bench/kraken_roundtrip.py" in built and "deploy/supervisor/generate.py" in built

    offenders = {path: names for path, names in built.items() if names and not path.startswith(MAY_BUILD)}
    assert offenders == {}
