"""Find the strategy class a ``--strategy`` value names.

    sma_cross                      a shipped strategy (the ``builtin`` registry the caller passes in)
    mystrat                        mystrat.py in a --strategy-path directory or the current directory,
                                   which must define exactly one BotStrategy subclass
    path/to/file.py[:ClassName]    a file (relative to the current directory); without a class name
                                   it must define exactly one BotStrategy subclass; its folder comes
                                   first when it imports helpers
    package.module[:ClassName]     a module importable from the --strategy-path directories, the
                                   current directory or the installed packages, in that order; without
                                   a class name it must define exactly one BotStrategy subclass

Shipped names win over files of the same name (load those with ``./name.py``). A file is imported
under a private, unique module name, so it cannot clash with an installed module or with another
strategy file of the same name. Loading a user strategy puts the --strategy-path directories and
the current directory at the front of ``sys.path`` while it is imported (a console script, unlike
``python -m``, does not put the current directory there), so a strategy file can import its helper
modules beside it; afterwards they move to the end, so a file beside it never hides a module that
candlebot imports later.

Every mistake is one ``ConfigError`` line: a missing file or module, a syntax error (file:line),
an import the user's module needs but cannot find, no such class, a class that is not a
BotStrategy, a strategy written for an interface this candlebot does not implement, and what would
otherwise fail on every candle or when the strategy is built (``check_shape``).

The core never imports the shipped strategies (only the assembly module does): the caller passes
them in as ``builtin``.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.util
import inspect
import itertools
import os
import re
import sys
import traceback
import typing
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterator, Mapping, Sequence

from candlebot.errors import ConfigError
from candlebot.strategy.base import BotStrategy
from candlebot.strategy.params import StrategyParams

# The interfaces this candlebot implements: BotStrategy.interface is the current one; bump OLDEST when
# support for strategies written against an older interface is dropped (and say so in docs/strategies.md).
# Interface 1 strategies run unchanged on interface 2: the names they rely on are the same, only read-only now
# (what mutated the books is a strategy error on that candle, named in one line).
CURRENT_INTERFACE = BotStrategy.interface
OLDEST_INTERFACE = 1

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_CLASS = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_private_names = itertools.count(1)


class _Unloadable(Exception):
    """Why a user's strategy cannot be loaded; ``load_strategy`` names the strategy in front of it."""


def load_strategy(spec: str, builtin: Mapping[str, type[BotStrategy]],
                  search_path: Sequence[Path | str] = ()) -> type[BotStrategy]:
    """The BotStrategy subclass ``spec`` names (see the module docstring for the forms)."""
    spec = spec.strip()
    if spec in builtin:
        return builtin[spec]
    location, sep, class_name = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if sep and not _CLASS.match(class_name):
        raise ConfigError(f"cannot load strategy {spec!r}: {class_name!r} is not a class name "
                          "(write file.py:ClassName or package.module:ClassName)")
    dirs = strategy_folders(search_path)
    if _is_file(location):  # as ``python path/to/file.py`` does, its own folder first: helpers beside it import
        file = Path(location).expanduser()
        dirs = [file.resolve().parent, *dirs]
        with _first_on_path(dirs):
            return _checked(spec, lambda: _from_file(file, class_name or None, dirs))
    with _first_on_path(dirs):
        if sep or "." in location:
            return _checked(spec, lambda: _from_module(location, class_name or None, dirs))
        return _checked(spec, lambda: _from_search_path(spec, builtin, dirs))


def _checked(spec: str, load: Callable[[], type[BotStrategy]]) -> type[BotStrategy]:
    try:
        return check_shape(check_interface(load()))
    except _Unloadable as exc:
        raise ConfigError(f"cannot load strategy {spec!r}: {exc}") from None


def check_interface(strategy: type[BotStrategy]) -> type[BotStrategy]:
    """Refuse a strategy written for an interface this candlebot does not implement."""
    version = getattr(strategy, "interface", None)
    if isinstance(version, bool) or not isinstance(version, int):
        raise _Unloadable(f"interface must be an integer (interface = {CURRENT_INTERFACE}), got {version!r}")
    if version > CURRENT_INTERFACE:
        raise _Unloadable(f"it is written for strategy interface {version}; this candlebot implements interface "
                          f"{CURRENT_INTERFACE}: upgrade candlebot")
    if version < OLDEST_INTERFACE:
        raise _Unloadable(f"it is written for strategy interface {version}, which this candlebot no longer supports "
                          f"(oldest: {OLDEST_INTERFACE}); see docs/strategies.md for what changed")
    return strategy


def check_shape(strategy: type[BotStrategy]) -> type[BotStrategy]:
    """Refuse, at load, what would otherwise fail on every candle or as a traceback when the strategy is built:
    no ``name``, a ``Params`` that is not a StrategyParams dataclass, a missing or misspelt ``evaluate_positions``,
    a ``setup`` or ``evaluate_positions`` that cannot take what the engine passes."""
    cls = strategy.__name__
    if not isinstance(strategy.name, str) or not strategy.name.strip():
        raise _Unloadable(f"{cls} has no name: add name = \"{_snake(cls)}\" to the class (logs, reports and metrics use it)")
    _check_params(cls, strategy.Params)
    if strategy.evaluate_positions is BotStrategy.evaluate_positions:
        own = {name for klass in strategy.__mro__ if klass not in BotStrategy.__mro__ for name in vars(klass)}
        near = difflib.get_close_matches("evaluate_positions", sorted(own), n=1, cutoff=0.7)
        hint = f" (it defines {near[0]}: a misspelling?)" if near else ""
        raise _Unloadable(f"{cls} does not define evaluate_positions(self, i){hint}")
    _check_signature(strategy, "setup", "indicators")
    _check_signature(strategy, "evaluate_positions", "i")
    return strategy


def _check_signature(strategy: type[BotStrategy], hook: str, argument: str) -> None:
    """The engine calls ``hook(argument)`` on an instance: a method that cannot take it would fail every time."""
    try:
        signature = inspect.signature(getattr(strategy, hook))
    except ValueError:  # no signature to read (a builtin): the engine will tell
        return
    try:
        signature.bind(None, argument)
    except TypeError:
        shown = signature.replace(return_annotation=inspect.Signature.empty)
        raise _Unloadable(f"{strategy.__name__}.{hook} must take (self, {argument}), not {hook}{shown}") from None


def _check_params(cls: str, params: object) -> None:
    if not (isinstance(params, type) and issubclass(params, StrategyParams)):
        raise _Unloadable(f"{cls}.Params must be a @dataclass(frozen=True) subclass of StrategyParams, "
                          f"got {getattr(params, '__name__', repr(params))}")
    fields = {field.name for field in dataclasses.fields(params)}
    for klass in params.__mro__:
        loose = [name for name, hint in vars(klass).get("__annotations__", {}).items()
                 if name not in fields and "ClassVar" not in str(hint)]
        if loose:
            raise _Unloadable(f"{klass.__name__}.{loose[0]} is not a parameter: put @dataclass(frozen=True) above "
                              f"class {klass.__name__}")
    try:
        typing.get_type_hints(params)
    except Exception as exc:  # a hint naming what the module does not define
        raise _Unloadable(f"{params.__name__}: cannot read its field types ({type(exc).__name__}: {exc})") from None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# -- the three forms ----------------------------------------------------------------------------------


def _from_file(path: Path, class_name: str | None, dirs: list[Path]) -> type[BotStrategy]:
    if not path.is_file():
        if path.exists():
            raise _Unloadable(f"{path} is not a file")
        with_py = path.with_name(path.name + ".py")
        raise _Unloadable(f"file not found: {path}" + (f" (did you mean {with_py}?)" if with_py.is_file() else ""))
    return _pick(_import_file(path, dirs), class_name, str(path))


def _from_module(module_name: str, class_name: str | None, dirs: list[Path]) -> type[BotStrategy]:
    if not _MODULE.match(module_name):
        raise _Unloadable(f"{module_name!r} is neither a module name (package.module) nor a .py file")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise _Unloadable(f"no module named {exc.name!r} (looked in --strategy-path, the current directory and "
                              "the installed packages)") from None
        raise _failed(exc, module_name, dirs) from None
    except (Exception, SystemExit) as exc:  # the user's module raised while importing: say where, in one line
        raise _failed(exc, module_name, dirs) from None
    return _pick(module, class_name, module_name)


def _from_search_path(name: str, builtin: Mapping[str, type[BotStrategy]], dirs: list[Path]) -> type[BotStrategy]:
    if _CLASS.match(name):
        for folder in dirs:
            candidate = folder / f"{name}.py"
            if candidate.is_file():
                return _pick(_import_file(candidate, dirs), None, str(candidate))
    where = ", ".join(str(d) for d in dirs)
    raise ConfigError(f"unknown strategy {name!r} (available: {', '.join(sorted(builtin))}; no {name}.py in {where}; "
                      "your own: path/file.py[:Class] or package.module[:Class])")


# -- plumbing ------------------------------------------------------------------------------------------


def _is_file(location: str) -> bool:
    return location.endswith(".py") or os.sep in location or "/" in location


def strategy_folders(search_path: Sequence[Path | str]) -> list[Path]:
    """Where ``--strategy NAME`` looks for NAME.py, in order: the --strategy-path directories (checked), then the
    current directory (``candlebot strategies`` lists the same folders)."""
    dirs = []
    for entry in search_path:
        folder = Path(entry).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"--strategy-path {entry}: no such directory")
        dirs.append(folder.resolve())
    dirs.append(Path.cwd())
    return dirs


@contextmanager
def _first_on_path(dirs: list[Path]) -> Iterator[None]:
    """The user's folders lead ``sys.path`` while their code is imported, then follow everything else: a helper the
    strategy imports later still resolves, but a ``secrets.py`` or ``calendar.py`` beside it never hides the module of
    that name that candlebot or a library imports later (a report, the Kraken client)."""
    folders = list(dict.fromkeys(str(folder) for folder in dirs))
    for folder in folders:
        while folder in sys.path:
            sys.path.remove(folder)
    sys.path[:0] = folders
    importlib.invalidate_caches()
    try:
        yield
    finally:
        for folder in folders:
            while folder in sys.path:
                sys.path.remove(folder)
        sys.path.extend(folders)


def _import_file(path: Path, dirs: list[Path]) -> ModuleType:
    """Run a strategy file as a module of its own, named so that it clashes with nothing."""
    stem = re.sub(r"\W", "_", path.stem)
    name = f"_candlebot_strategy_{next(_private_names)}_{stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise _Unloadable(f"{path} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and typing.get_type_hints look the module up by name
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # the user's file raised while importing: say where, in one line
        del sys.modules[name]
        raise _failed(exc, str(path), [path.resolve(), *dirs]) from None
    return module


def _failed(exc: BaseException, source: str, roots: list[Path]) -> _Unloadable:
    """One line for an exception raised while importing the user's code: what, and where in their code."""
    if isinstance(exc, SyntaxError):
        return _Unloadable(f"syntax error at {exc.filename or source}:{exc.lineno}: {exc.msg}")
    where = _user_frame(exc, roots) or source
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return _Unloadable(f"{where} imports {exc.name!r}, which is not installed (pip install it) or not on the path "
                           "(add its folder with --strategy-path)")
    return _Unloadable(f"{where} raised {type(exc).__name__}: {exc}")


def _user_frame(exc: BaseException, roots: list[Path]) -> str | None:
    """``file:line`` of the deepest frame in the user's code: a file under ``roots`` that is not an installed one."""
    installed = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(__file__).resolve().parents[1]}
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        file = Path(frame.filename).resolve()
        places = {file, *file.parents}
        if any(root in places for root in roots) and not places & installed:
            return f"{frame.filename}:{frame.lineno}"
    return None


def _pick(module: ModuleType, class_name: str | None, source: str) -> type[BotStrategy]:
    if class_name is not None:
        if not hasattr(module, class_name):
            defined = ", ".join(c.__name__ for c in _strategies_in(module)) or "none"
            raise _Unloadable(f"{source} has no class {class_name!r} (BotStrategy subclasses defined there: {defined})")
        strategy = getattr(module, class_name)
        if not (isinstance(strategy, type) and issubclass(strategy, BotStrategy)):
            raise _Unloadable(f"{source}:{class_name} is not a BotStrategy subclass "
                              f"(write class {class_name}(BotStrategy), from candlebot.strategy import BotStrategy)")
        return strategy
    found = _strategies_in(module)
    if not found:
        raise _Unloadable(f"{source} defines no BotStrategy subclass")
    if len(found) > 1:
        raise _Unloadable(f"{source} defines {len(found)} BotStrategy subclasses ({', '.join(c.__name__ for c in found)}): "
                          f"name one, e.g. {source}:{found[0].__name__}")
    return found[0]


def _strategies_in(module: ModuleType) -> list[type[BotStrategy]]:
    """The BotStrategy subclasses the module itself defines (not those it imports)."""
    return [value for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, BotStrategy) and value is not BotStrategy
            and value.__module__ == module.__name__]
