"""``candlebot strategies [--strategy-path DIR ...]``: the strategies ``--strategy`` can name, with their parameters.

The built-in ones first, then every strategy class in the ``*.py`` files of each folder ``--strategy NAME`` looks
in (``strategy_folders``: each ``--strategy-path`` directory, then the current folder, whose files are listed only
when they name candlebot), loaded exactly as ``--strategy`` loads them, so a file that would not load says why, in
one line. Each line shows the ``--param`` names and their defaults; the parameters every strategy has come once,
at the end.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path
from typing import Callable, TextIO

from candlebot.cli.args import ArgumentParser
from candlebot.errors import ConfigError
from candlebot.strategy import BotStrategy, StrategyParams


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="candlebot strategies", description="List the strategies --strategy can name, with their parameters and defaults.")
    parser.add_argument("--strategy-path", action="append", default=[], metavar="DIR",
                        help="also list the strategies in this directory's .py files (repeatable)")
    return parser


def main(argv: list[str], out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    from candlebot.strategy.loader import strategy_folders

    folders = strategy_folders(args.strategy_path)  # --strategy's own search order: the --strategy-path ones, then .
    from candlebot.assembly import STRATEGIES  # the shipped strategies (only the assembly imports them)

    out.write("built-in strategies (--strategy NAME; --param NAME=VALUE to change a default):\n")
    _write_table(out, [(name, _summary(cls), _params(cls)) for name, cls in STRATEGIES.items()])
    given = {folder: typed for typed, folder in zip(args.strategy_path, folders)}
    for folder in dict.fromkeys(folders):
        if folder in given:
            typed = given[folder]
            out.write(f"\nin {typed} (--strategy-path {typed} --strategy NAME, or --strategy FILE.py[:Class]):\n")
            rows = _found_in(folder, STRATEGIES, args.strategy_path)
            if rows:
                _write_table(out, rows)
            else:
                out.write("  no strategy files\n")
            continue
        rows = _found_in(folder, STRATEGIES, args.strategy_path, _mentions_candlebot)  # the current folder
        if rows:  # said only when it holds some: any folder is the current one
            out.write("\nin the current folder (--strategy NAME):\n")
            _write_table(out, rows)
    common = "  ".join(f"{f.name}={_shown(f.default)}" for f in dataclasses.fields(StrategyParams))
    out.write(f"\nevery strategy also takes: {common}\n"
              "write your own: candlebot new-strategy NAME (docs/strategies.md)\n")
    return 0


def _found_in(directory: Path, builtin: dict[str, type[BotStrategy]], search_path: list[str],
              wanted: Callable[[Path], bool] = lambda path: True) -> list[tuple[str, str, str]]:
    from candlebot.strategy.loader import load_strategy

    rows: list[tuple[str, str, str]] = []
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_") or not wanted(path):
            continue
        classes = _class_names(path)
        if classes is None:
            rows.append((path.stem, f"cannot load: {path.name} is not valid Python", ""))
            continue
        failures: list[str] = []
        found = []
        for name in classes:
            try:
                cls = load_strategy(f"{path}:{name}", {}, search_path)
            except ConfigError as exc:
                if "is not a BotStrategy subclass" not in str(exc) and str(exc) not in failures:
                    failures.append(str(exc))
                continue
            found.append(cls)
        label = path.stem if len(found) <= 1 else None
        for cls in found:
            rows.append((label or f"{path.stem}:{cls.__name__}", _summary(cls), _params(cls)))
        rows += [(path.stem, failure, "") for failure in failures[:1]]
    return rows


def _mentions_candlebot(path: Path) -> bool:
    """A file of the current folder is imported (run) to be listed only when it can be a strategy: it names candlebot
    (a strategy subclasses candlebot's BotStrategy); a setup.py or a script beside it is left alone."""
    try:
        return "candlebot" in path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def _class_names(path: Path) -> list[str] | None:
    """The top-level classes of a file, read without running it; None when it does not parse."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]


def _summary(cls: type[BotStrategy]) -> str:
    """The first line of the strategy's docstring, else of its module's, without a leading ``name:``."""
    module = sys.modules.get(cls.__module__)
    for doc in (cls.__doc__, getattr(module, "__doc__", None)):
        if doc and doc.strip() and doc is not BotStrategy.__doc__:
            first = doc.strip().splitlines()[0].strip()
            head, sep, rest = first.partition(": ")
            return (rest if sep and head == getattr(cls, "name", None) else first).rstrip(".")
    return ""


def _params(cls: type[BotStrategy]) -> str:
    """``name=default`` of the strategy's own parameters (and of the common ones whose default it changes)."""
    base = {f.name: f.default for f in dataclasses.fields(StrategyParams)}
    shown = []
    for field in dataclasses.fields(cls.Params):
        if field.name in base and field.default == base[field.name]:
            continue
        default = field.default if field.default is not dataclasses.MISSING else "(required)"
        shown.append(f"{field.name}={_shown(default)}")
    return "  ".join(shown) or "(no parameters of its own)"


def _shown(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def _write_table(out: TextIO, rows: list[tuple[str, str, str]]) -> None:
    width = max(len(name) for name, _, _ in rows)
    for name, summary, params in rows:
        out.write(f"  {name.ljust(width)}  {summary}\n")
        if params:
            out.write(f"  {' ' * width}  {params}\n")
