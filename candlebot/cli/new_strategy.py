"""``candlebot new-strategy NAME [--dir DIR]``: write NAME.py, a small working strategy to start from.

The file is ``candlebot/strategy/template.py`` with your names in it (``my_strategy`` becomes NAME,
``MyStrategy`` its class name in CamelCase), so the template is itself a strategy that is tested.
An existing file is never overwritten.
"""

from __future__ import annotations

import ast
import importlib.util
import keyword
import re
import shlex
import sys
from importlib.resources import files
from pathlib import Path
from typing import Collection

from candlebot.cli.args import ArgumentParser
from candlebot.cli.helptext import description
from candlebot.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_TEMPLATE_NAME, _TEMPLATE_CLASS = "my_strategy", "MyStrategy"


def main(argv: list[str]) -> int:
    parser = ArgumentParser(prog="candlebot new-strategy", description=description(__doc__))
    parser.add_argument("name", help="the strategy's name: letters, digits and '_', e.g. ema_trend (writes ema_trend.py)")
    parser.add_argument("--dir", default=".", help="where to write NAME.py (default: the current directory)")
    args = parser.parse_args(argv)
    template = files("candlebot.strategy").joinpath("template.py").read_text(encoding="utf-8")
    class_name = check_name(args.name, reserved=_imported_names(template))
    folder = Path(args.dir)
    if not folder.is_dir():
        raise ConfigError(f"--dir {args.dir}: no such directory")
    path = folder / f"{args.name}.py"
    if path.exists():
        raise ConfigError(f"{path} already exists: choose another name or --dir (nothing was overwritten)")
    from candlebot.assembly import STRATEGIES  # the shipped ones, known only to the assembly

    if args.name in STRATEGIES:
        raise ConfigError(f"strategy name {args.name!r} is a shipped strategy's: logs, reports and metrics could not tell "
                          "yours apart (copy its file from candlebot/strategies/ under another name to change it)")
    if args.name in sys.stdlib_module_names or importlib.util.find_spec(args.name) is not None:
        raise ConfigError(f"strategy name {args.name!r} is already a Python module; {path} would hide it from imports")
    text = template.replace(_TEMPLATE_CLASS, class_name).replace(_TEMPLATE_NAME, args.name)
    try:
        with open(path, "x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:  # created since the check above
        raise ConfigError(f"{path} already exists: choose another name or --dir (nothing was overwritten)") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    spec = shlex.quote(f"{path}:{class_name}")
    print(f"wrote {path} (class {class_name}); backtest it with:")
    print(f"  candlebot backtest --data demo -p 60 --strategy {spec}")
    return 0


def check_name(name: str, reserved: Collection[str] = ()) -> str:
    """The class name for strategy ``name``, or one line saying why the name cannot be a strategy file."""
    if not _NAME.match(name):
        raise ConfigError(f"strategy name {name!r}: start with a letter, then letters, digits or '_' (at most 64), "
                          "e.g. ema_trend")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ConfigError(f"strategy name {name!r} is a Python keyword")
    class_name = "".join(part[:1].upper() + part[1:] for part in name.split("_"))
    clash = {class_name, f"{class_name}Params"} & set(reserved)
    if clash:
        raise ConfigError(f"strategy name {name!r} would define {', '.join(sorted(clash))}, which the template imports")
    return class_name


def _imported_names(source: str) -> set[str]:
    return {alias.asname or alias.name for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom) for alias in node.names}
