"""Turn a fleet file (one entry per bot) into a supervisor config: one [program:] per bot in a [group:].

    candlebot fleet fleet.toml -o deploy/supervisor/fleet.conf [--mkdirs] [--standalone]

Every bot runs ``candlebot`` in its own folder (``<root>/<name>``): the folder
name is the bot's name and id, its logs go to ``<folder>/logs``. supervisor
restarts a bot that dies, stops it with SIGTERM (the bot finishes its step and
exits 0 within 5 s) and keeps its console output under the bot's folder.
Bots that share a key file share the nonce sequence (it lives in the state
directory). ``--standalone`` adds the [supervisord]/[supervisorctl] sections
so that ``supervisord -c fleet.conf`` runs the fleet without a system supervisor.

Every value is checked before anything is written: names, pairs, paths, the
command, environment variables and extra arguments may hold no control
character (a newline would start a new supervisor section) and nothing that
supervisor would read as a comment or a quote; each bot's command line is
parsed by candlebot's own argument parser and its strategy and parameters are
built, so that a typo fails here rather than in a restart loop. Run it with the
candlebot that runs the bots (it checks their flags with that candlebot's parser).
"""

from __future__ import annotations

import math
import re
import shlex
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from candlebot.cli.bot_flags import known_pair
from candlebot.cli.oneline import OneLineParser, refuse
from candlebot.errors import ConfigError

PROG = "candlebot fleet"
MODES = ("paper", "validate", "live")
_KIND_NAMES = {str: "string", dict: "table", tuple: "list of strings"}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
PAIR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/._-]{1,31}$")
STRATEGY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*(:[A-Za-z_][A-Za-z0-9_]*)?$")
STRATEGY_FILE = re.compile(r"^[^:]+\.py(:[A-Za-z_][A-Za-z0-9_]*)?$")  # path/to/file.py[:Class], made absolute on load
PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_COMMENT = re.compile(r"\s[;#]")  # supervisor drops the rest of a line from " ;" or " #" on


class FleetError(Exception):
    """A mistake in the fleet file: reported in one line, exit code 2."""


@dataclass(frozen=True)
class Bot:
    name: str
    pair: str
    strategy: str
    period: float = 5
    poll: float = 5
    mode: str = "paper"
    params: dict[str, object] = field(default_factory=dict)
    key_file: str | None = None
    cash: str | float | None = None
    extra_args: tuple[str, ...] = ()
    strategy_path: tuple[str, ...] = ()  # directories for --strategy-path, made absolute on load

    def __post_init__(self) -> None:
        for name, kind in (("name", str), ("pair", str), ("strategy", str), ("mode", str), ("params", dict),
                           ("extra_args", tuple), ("strategy_path", tuple)):
            if not isinstance(getattr(self, name), kind):
                raise FleetError(f"bot {self.name!r}: {name} must be a {_KIND_NAMES[kind]}, got {getattr(self, name)!r}")
        if not NAME.match(self.name):
            raise FleetError(f"bot name {self.name!r}: 1-64 letters, digits, '.', '_' or '-'")
        where = f"bot {self.name}"
        if not PAIR.match(self.pair):
            raise FleetError(f"{where}: pair {self.pair!r} is not a pair name such as XBTUSD or BTC/USD")
        if not (STRATEGY.match(self.strategy) or STRATEGY_FILE.match(text_value(self.strategy, f"{where}: strategy"))):
            raise FleetError(f"{where}: strategy {self.strategy!r} is not a strategy name, module:Class or file.py:Class")
        for folder in self.strategy_path:
            text_value(folder, f"{where}: strategy_path")
        if self.mode not in MODES:
            raise FleetError(f"{where}: mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.key_file is not None:
            text_value(self.key_file, f"{where}: key_file")
        if self.mode != "paper" and not self.key_file:
            raise FleetError(f"{where}: mode {self.mode} needs key_file")
        for flag, value in (("period", self.period), ("poll", self.poll)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
                raise FleetError(f"{where}: {flag} must be a positive number, got {value!r}")
        if self.cash is not None and (isinstance(self.cash, bool) or not isinstance(self.cash, (int, float, str))):
            raise FleetError(f"{where}: cash must be a number, got {self.cash!r}")
        if isinstance(self.cash, str):
            text_value(self.cash, f"{where}: cash")
        for key, value in self.params.items():
            if not PARAM.match(key):
                raise FleetError(f"{where}: parameter name {key!r} is not a plain name")
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, (dict, list)) or not isinstance(item, (str, int, float, bool)):
                    raise FleetError(f"{where}: parameter {key} must be a number, a string, true/false or a list of those")
                if isinstance(item, str):
                    text_value(item, f"{where}: parameter {key}")
        for arg in self.extra_args:
            text_value(arg, f"{where}: extra_args")

    def argv(self, fleet: Fleet) -> list[str]:
        argv = [*fleet.command, "-x", "kraken", "-p", _number(self.period), "-t", _number(self.poll), "-c", self.pair,
                "--strategy", self.strategy]
        for folder in self.strategy_path:
            argv += ["--strategy-path", folder]
        for name, value in self.params.items():
            text = ",".join(map(str, value)) if isinstance(value, list) else str(value).lower() if isinstance(value, bool) else str(value)
            argv += ["--param", f"{name}={text}"]
        argv += [f"--{self.mode}", "--name", self.name]
        if self.key_file:
            argv += ["--key-file", self.key_file]
        if self.cash is not None:
            argv += ["--cash", self.cash if isinstance(self.cash, str) else _number(self.cash)]
        if fleet.state_dir:
            argv += ["--state-dir", fleet.state_dir]
        return argv + list(self.extra_args)


@dataclass(frozen=True)
class Fleet:
    group: str
    root: Path
    command: tuple[str, ...]
    bots: tuple[Bot, ...]
    state_dir: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    user: str | None = None

    def folder(self, bot: Bot) -> Path:
        return self.root / bot.name


def text_value(value: object, where: str) -> str:
    """A string that stays one supervisor value: no control character (a newline starts a section), no comment."""
    if not isinstance(value, str):
        raise FleetError(f"{where} must be a string, got {value!r}")
    if any(not c.isprintable() for c in value):
        raise FleetError(f"{where}: {value!r} holds a control character (newline, tab, ...)")
    if _COMMENT.search(value):
        raise FleetError(f"{where}: {value!r} holds a space before ';' or '#', which supervisor reads as a comment")
    return value


def no_percent(value: str, where: str) -> str:
    """A folder that ends up in ``stdout_logfile``: supervisord expands that value twice (``%(here)s``, then the
    log name's own ``%(program_name)s``...), so no escaping survives and any '%' makes it refuse the config."""
    if "%" in value:
        raise FleetError(f"{where} {value!r}: '%' is not allowed in this folder (supervisord reads it as one of its "
                         "%(name)s expansions)")
    return value


def _environment(raw: object, where: str) -> dict[str, str]:
    """``KEY = "value"`` pairs; a quote in a value would end it early and let the rest define another variable."""
    if not isinstance(raw, dict):
        raise FleetError(f"{where} environment must be a table")
    env: dict[str, str] = {}
    for key, value in raw.items():
        if not ENV_NAME.match(key):
            raise FleetError(f"{where} environment: {key!r} is not a variable name")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise FleetError(f"{where} environment {key}: must be a string or a number")
        text = text_value(str(value), f"{where} environment {key}")
        if '"' in text or "'" in text:
            raise FleetError(f"{where} environment {key}: quotes are not allowed in a value")
        env[key] = text
    return env


def check_bot(bot: Bot, fleet: Fleet) -> str | None:
    """The bot's command line as candlebot itself reads it, with the checks the bot makes at start
    (``check_bot_flags``: one function, so the two cannot drift), in the bot's own words.
    Returns the state dir the bot will use (None: the default one)."""
    from candlebot.cli.args import build_parser
    from candlebot.cli.bot_flags import check_bot_flags
    from candlebot.errors import ConfigError

    try:
        args = build_parser().parse_args(bot.argv(fleet)[len(fleet.command):])
        if args.data is not None:
            raise ConfigError("--data makes a backtest, not a bot")
        if args.name != bot.name:  # the program, its folder and `supervisorctl start` know the bot by its entry's name
            raise ConfigError(f"extra_args renames the bot to {args.name!r}: a bot's name is its entry's name "
                              "(its program, folder and state file); set name instead")
        flags = check_bot_flags(args, bot_environment(fleet))
        found_here_only(flags.strategy, args.strategy, args.strategy_path, fleet.folder(bot))
    except ConfigError as exc:
        raise FleetError(f"bot {bot.name}: {exc}") from None
    return args.state_dir


def found_here_only(strategy: type, name: str, search_path: list[str], bot_folder: Path) -> None:
    """``--strategy NAME`` also searches the current folder: found there by this command, but not by the bot, which
    supervisor runs in its own folder (a ConfigError saying how to point the bot at it)."""
    module = sys.modules.get(strategy.__module__)
    source = Path(getattr(module, "__file__", "") or "")
    here = Path.cwd().resolve()
    searched = {Path(folder).expanduser().resolve() for folder in search_path}
    if source.name and source.resolve().parent == here and here not in searched and bot_folder.resolve() != here:
        raise ConfigError(f"strategy {name!r} was found in the current folder ({source.name}), which the bot, run in "
                          f"{bot_folder}, does not search: set strategy_path (relative to the fleet file) or "
                          f"strategy = \"{source.name}:{strategy.__name__}\"")


def bot_environment(fleet: Fleet) -> dict[str, str]:
    """The environment the sink flags are checked against: the fleet's ``environment``. supervisord's own
    environment (where a Slack webhook or token usually lives) is not known here: a secret the fleet file does not
    set counts as set, and the bot checks it at start."""
    from candlebot.output.sinks.settings import TOKEN_ENV, WEBHOOK_ENV

    assumed = {WEBHOOK_ENV: "https://hooks.slack.invalid/set-under-supervisor", TOKEN_ENV: "set-under-supervisor"}
    return {**assumed, **fleet.environment}


def load_fleet(path: Path) -> Fleet:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FleetError(f"fleet file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetError(f"cannot read fleet file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FleetError(f"{path}: {exc}") from None
    if set(data) - {"fleet", "bot", "collector"}:  # a typo such as [[bots]] would otherwise be ignored
        raise FleetError(f"{path}: unknown table(s) {', '.join(sorted(set(data) - {'fleet', 'bot', 'collector'}))} "
                         "(a fleet file holds [fleet], [[bot]] and [[collector]])")
    head = data.get("fleet", {})
    if not isinstance(head, dict):
        raise FleetError(f"{path}: [fleet] must be a table")
    known_head = {"group", "root", "command", "state_dir", "environment", "user"}
    if set(head) - known_head:
        raise FleetError(f"{path}: unknown [fleet] key(s) {', '.join(sorted(set(head) - known_head))}")
    if "root" not in head:
        raise FleetError(f"{path}: [fleet] needs root (the folder holding one folder per bot)")
    bots = _load_bots(path, data.get("bot", []))
    command = head.get("command", "candlebot")
    group = head.get("group", "candlebots")
    for key in ("root", "state_dir", "command", "group", "user"):
        if key in head and not isinstance(head[key], str) and not (key == "command" and isinstance(head[key], list)):
            raise FleetError(f"{path}: [fleet] {key} must be a string")
        if key in head:
            for item in head[key] if isinstance(head[key], list) else [head[key]]:
                text_value(item, f"{path}: [fleet] {key}")
    no_percent(head["root"], f"{path}: [fleet] root")
    if not NAME.match(group):
        raise FleetError(f"{path}: group {group!r}: letters, digits, '.', '_' or '-'")
    if head.get("user") is not None and not NAME.match(head["user"]):
        raise FleetError(f"{path}: [fleet] user {head['user']!r} is not a user name")
    try:
        argv = tuple(shlex.split(command) if isinstance(command, str) else command)
    except ValueError as exc:
        raise FleetError(f"{path}: [fleet] command: {exc}") from None
    if not argv:
        raise FleetError(f"{path}: [fleet] command is empty")
    fleet = Fleet(group=group, root=_resolve(path, head["root"]), command=argv, bots=tuple(bots),
                  state_dir=str(_resolve(path, head["state_dir"])) if head.get("state_dir") else None,
                  environment=_environment(head.get("environment", {}), f"{path}: [fleet]"), user=head.get("user"))
    state_dirs: dict[str, dict[str, str]] = {}
    for bot in fleet.bots:
        state_dir = check_bot(bot, fleet)
        if bot.key_file:
            state_dirs.setdefault(bot.key_file, {})[bot.name] = state_dir or "the default state dir"
    for key_file, dirs in state_dirs.items():
        if len(set(dirs.values())) > 1:  # each bot would start, and the later ones refuse (exit 2) under supervisor
            raise FleetError(f"{path}: bots on key file {key_file} must share one state dir (its nonce file, rate "
                             "counters and the fleet-wide audit live there): "
                             + ", ".join(f"{name} uses {folder}" for name, folder in dirs.items()))
    return fleet


def directories(fleet: Fleet, run_dir: Path | None = None) -> list[Path]:
    """Every folder the generated config names: each bot's folder and logs, the state and run directories."""
    folders = [fleet.root]
    folders += [fleet.folder(bot) / "logs" for bot in fleet.bots]
    if fleet.state_dir:
        folders.append(Path(fleet.state_dir))
    if run_dir is not None:
        folders.append(run_dir)
    return folders


def _load_bots(path: Path, rows: object) -> list[Bot]:
    """The ``[[bot]]`` entries, each checked on its own (names across the fleet must be unique)."""
    if not isinstance(rows, list) or not rows or not all(isinstance(row, dict) for row in rows):
        raise FleetError(f"{path}: no [[bot]] entries")
    bots = []
    for row in rows:
        label = repr(row.get("name", "?"))
        unknown = set(row) - {f for f in Bot.__dataclass_fields__}
        if unknown:
            raise FleetError(f"{path}: bot {label}: unknown key(s) {', '.join(sorted(map(repr, unknown)))}")
        missing = {"name", "pair", "strategy"} - set(row)
        if missing:
            raise FleetError(f"{path}: a [[bot]] lacks {', '.join(sorted(missing))}")
        extra = row.get("extra_args", [])
        if not isinstance(extra, list) or not all(isinstance(a, str) for a in extra):
            raise FleetError(f"{path}: bot {label}: extra_args must be a list of strings, e.g. [\"--cash\", \"500\"]")
        row = {**row, "extra_args": tuple(extra), **_strategy_paths(path, row, label)}
        if isinstance(row.get("key_file"), str):
            row["key_file"] = str(_resolve(path, text_value(row["key_file"], f"bot {label}: key_file")))
        bots.append(Bot(**row))
    names = [b.name for b in bots]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise FleetError(f"{path}: bot names must be unique, repeated: {', '.join(duplicates)}")
    return bots


def _strategy_paths(path: Path, row: dict, label: str) -> dict[str, object]:
    """``strategy = "file.py:Class"`` and ``strategy_path`` (a folder or a list), relative to the fleet file like every path."""
    found: dict[str, object] = {}
    folders = row.get("strategy_path", [])
    folders = [folders] if isinstance(folders, str) else folders
    if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
        raise FleetError(f"{path}: bot {label}: strategy_path must be a folder or a list of folders, e.g. [\"strategies\"]")
    if folders:
        found["strategy_path"] = tuple(str(_resolve(path, text_value(f, f"bot {label}: strategy_path"))) for f in folders)
    strategy = row.get("strategy")
    if isinstance(strategy, str) and STRATEGY_FILE.match(strategy):
        file, sep, cls = strategy.rpartition(":") if not strategy.endswith(".py") else (strategy, "", "")
        found["strategy"] = f"{_resolve(path, text_value(file, f'bot {label}: strategy'))}{sep}{cls}"
    return found


def _resolve(fleet_file: Path, value: str) -> Path:
    """Paths in a fleet file are relative to the fleet file (supervisor would resolve them per bot folder)."""
    return (fleet_file.parent / Path(value).expanduser()).resolve()


def render(fleet: Fleet, *, source: str, standalone: bool = False, run_dir: Path | None = None) -> str:
    lines = [f"; generated by candlebot fleet from {source!r}: edit the fleet file, not this one", ""]
    if standalone:
        run = run_dir or fleet.root
        no_percent(text_value(str(run), "--run-dir"), "--run-dir")
        lines += [
            "[supervisord]", f"logfile={_esc(str(run / 'supervisord.log'))}", f"pidfile={_esc(str(run / 'supervisord.pid'))}",
            "childlogdir=" + _esc(str(run)), "",
            "[unix_http_server]", f"file={_esc(str(run / 'supervisor.sock'))}", "",
            "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
            "[supervisorctl]", f"serverurl=unix://{_esc(str(run / 'supervisor.sock'))}", "",
        ]
    for bot in fleet.bots:
        lines += program_section(fleet, bot.name, bot.argv(fleet), fleet.folder(bot))
    lines += [f"[group:{fleet.group}]", "programs=" + ",".join(b.name for b in fleet.bots), ""]
    return "\n".join(lines)


def program_section(fleet: Fleet, name: str, argv: list[str], folder: Path) -> list[str]:
    """One ``[program:]`` for any candlebot process (a bot today; other kinds reuse it): runs ``argv`` in
    ``folder``, restarted, stopped by SIGTERM, console under ``folder/logs``. Values must be checked already."""
    lines = [
        f"[program:{name}]",
        "command=" + _esc(shlex.join(argv)),
        f"directory={_esc(str(folder))}",
        "autostart=true",
        # exit 2 is a refusal (bad flags, state file, lock held, broken books): not restarted, a person looks;
        # a crash (a signal, exit 1) is. startsecs=0: supervisor honours exitcodes only once a process is RUNNING,
        # so startretries never bounds a crash loop: the bot does (--crash-limit crashes within --crash-window,
        # then exit 2 with one line and one alert; candlebot/live/crashes.py)
        "autorestart=unexpected",
        "exitcodes=0,2",
        "startsecs=0",
        "startretries=3",
        "stopsignal=TERM",
        "stopwaitsecs=10",
        "redirect_stderr=true",
        f"stdout_logfile={_esc(str(folder / 'logs' / 'console.log'))}",
        "stdout_logfile_maxbytes=10MB",
        "stdout_logfile_backups=3",
    ]
    if fleet.environment:
        lines.append("environment=" + ",".join(f'{k}="{_esc(v)}"' for k, v in fleet.environment.items()))
    if fleet.user:
        lines.append(f"user={fleet.user}")
    lines.append("")
    return lines


def _number(value: float) -> str:
    """Exact, short: 5 stays '5', 1/60 keeps every digit (a rounded -p could miss a whole second)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _esc(text: str) -> str:
    """supervisor expands %(...)s in values: a literal % is written %%."""
    return text.replace("%", "%%")


# -- order-book collectors ([[collector]] entries) -----------------------------------------------------------


@dataclass(frozen=True)
class Collector:
    """A ``candlebot-collector`` process: ``name``, ``pairs``, ``depth`` and ``db`` (default: a SQLite file in its folder)."""

    name: str
    pairs: tuple[str, ...]
    depth: int = 10
    db: str | None = None
    command: tuple[str, ...] = ()
    extra_args: tuple[str, ...] = ()

    def argv(self, fleet: Fleet) -> list[str]:
        db = self.db or f"sqlite:///{fleet.root / self.name / 'books.sqlite'}"
        pairs = [flag for pair in self.pairs for flag in ("-c", pair)]  # -c, as every command names a pair
        return [*(self.command or collector_command(fleet.command)), *pairs,
                "--depth", str(self.depth), "--db", db, "--name", self.name, *self.extra_args]


def collector_command(bot_command: tuple[str, ...]) -> tuple[str, ...]:
    """``candlebot`` -> ``candlebot-collector`` (same folder); ``python -m candlebot`` -> ``python -m candlebot.collector``."""
    if len(bot_command) >= 2 and bot_command[-2:] == ("-m", "candlebot"):
        return (*bot_command[:-1], "candlebot.collector")
    head = Path(bot_command[-1]) if bot_command else Path("candlebot")
    return (*bot_command[:-1], str(head.with_name("candlebot-collector")) if head.name == "candlebot" else "candlebot-collector")


def load_collectors(path: Path, bots: tuple[Bot, ...]) -> tuple[Collector, ...]:
    """The ``[[collector]]`` entries of a fleet file (none is fine)."""
    from candlebot.errors import ConfigError

    rows = tomllib.loads(path.read_text(encoding="utf-8")).get("collector", [])
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise FleetError(f"{path}: collector entries are [[collector]] tables (name, pairs, depth, db), got "
                         f"{'a [collector] table' if isinstance(rows, dict) else repr(rows)}")
    out = []
    for row in rows:
        name = row.get("name")
        unknown = set(row) - {"name", "pairs", "depth", "db", "command", "extra_args"}
        if unknown:
            raise FleetError(f"{path}: collector {name or '?'}: unknown key(s) {', '.join(sorted(unknown))}")
        if not isinstance(name, str) or not NAME.match(name):
            raise FleetError(f"{path}: collector name {name!r}: 1-64 letters, digits, '.', '_' or '-'")
        pairs = row.get("pairs")
        pairs = pairs.split(",") if isinstance(pairs, str) else pairs
        if not isinstance(pairs, list) or not pairs or not all(isinstance(p, str) and p.strip() for p in pairs):
            raise FleetError(f"{path}: collector {name}: pairs must be a list of pair names, e.g. [\"XBTUSD\", \"ETHUSD\"]")
        depth = row.get("depth", 10)
        if depth not in (10, 25, 100, 500, 1000) or isinstance(depth, bool):
            raise FleetError(f"{path}: collector {name}: depth must be 10, 25, 100, 500 or 1000, got {depth!r}")
        for key in ("db",):
            if key in row and not isinstance(row[key], str):
                raise FleetError(f"{path}: collector {name}: {key} must be a string")
        lists = {}
        for key in ("command", "extra_args"):
            value = row.get(key, [])
            value = shlex.split(value) if key == "command" and isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
                raise FleetError(f"{path}: collector {name}: {key} must be a list of strings")
            lists[key] = tuple(value)
        where = f"{path}: collector {name}"
        for value in (*pairs, *(row.get("db") or "",), *lists["command"], *lists["extra_args"]):
            text_value(value, where)
        for pair in pairs:
            try:
                known_pair(pair)
            except ConfigError as exc:
                raise FleetError(f"{where}: {exc}") from None
        out.append(Collector(name, tuple(p.strip() for p in pairs), depth, row.get("db"), **lists))
    names = [b.name for b in bots] + [c.name for c in out]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FleetError(f"{path}: bot and collector names must be unique, repeated: {', '.join(repeated)}")
    return tuple(out)


def render_collectors(fleet: Fleet, collectors: tuple[Collector, ...]) -> str:
    """One [program:] per collector (run in ``<root>/<name>``, SIGTERM: it flushes and exits 0) in ``<group>-collectors``."""
    if not collectors:
        return ""
    lines: list[str] = [""]
    for item in collectors:
        lines += program_section(fleet, item.name, item.argv(fleet), fleet.root / item.name)
    lines += [f"[group:{fleet.group}-collectors]", "programs=" + ",".join(c.name for c in collectors), ""]
    return "\n".join(lines)


def key_file_warnings(fleet: Fleet) -> list[str]:
    """A key file the bot could not use if it started on this machine now (missing, or readable by others): a warning,
    not a refusal, since a config is often generated before the key is put in place, or on another machine. The bot
    refuses it at start in the same words. Only the file's mode is read, never the secret."""
    from candlebot.assembly import check_key_file
    from candlebot.errors import ConfigError

    warnings = []
    for bot in fleet.bots:
        if bot.key_file and bot.mode != "paper":
            try:
                check_key_file(bot.key_file)
            except ConfigError as exc:
                warnings.append(f"bot {bot.name}: --{bot.mode} needs a Kraken API key: {exc}; it will refuse to start "
                                "(exit 2) until that is fixed")
    return warnings


def written(path: Path, fleet: Fleet, collectors: tuple[Collector, ...]) -> str:
    """The one line ``-o`` prints: what went where (the config itself is in the file, so nothing else is printed)."""
    bots = f"{len(fleet.bots)} bot{'s' if len(fleet.bots) != 1 else ''}"
    more = (f" and {len(collectors)} collector{'s' if len(collectors) != 1 else ''} in [group:{fleet.group}-collectors]"
            if collectors else "")
    return f"wrote {path}: {bots} in [group:{fleet.group}]{more}"


def _parser(file_required: bool = True) -> OneLineParser:
    """The parser; without ``file_required`` (and without -h), only to find unknown flags: argparse reports a missing
    positional before them, so ``fleet --bogus`` said only that the fleet file was missing."""
    parser = OneLineParser(prog=PROG, description=__doc__.splitlines()[0] if __doc__ else None, add_help=file_required)
    parser.add_argument("fleet", type=Path, nargs=None if file_required else "?", help="fleet file (TOML); an example with every key: deploy/supervisor/fleet.example.toml in candlebot's source (README: Fleets under supervisor)")
    parser.add_argument("-o", "--output", type=Path, help="write the config here (default: stdout)")
    parser.add_argument("--mkdirs", action="store_true",
                        help="create every folder the config names: bot folders and their logs/, the state and run directories")
    parser.add_argument("--standalone", action="store_true", help="include the sections supervisord itself needs")
    parser.add_argument("--run-dir", type=Path, help="with --standalone: where supervisord keeps its socket, pid and log")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    unknown = [arg for arg in _parser(file_required=False).parse_known_args(argv)[1] if arg not in ("-h", "--help")]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args = parser.parse_args(argv)
    try:
        fleet = load_fleet(args.fleet)
        collectors = load_collectors(args.fleet, fleet.bots)
        text = render(fleet, source=str(args.fleet), standalone=args.standalone, run_dir=args.run_dir)
        text += render_collectors(fleet, collectors)
        if args.mkdirs:
            for folder in directories(fleet, (args.run_dir or fleet.root) if args.standalone else None):
                folder.mkdir(parents=True, exist_ok=True)
            for item in collectors:
                (fleet.root / item.name / "logs").mkdir(parents=True, exist_ok=True)
        for warning in key_file_warnings(fleet):
            print(f"{PROG}: warning: {warning}", file=sys.stderr)
        if args.output:
            args.output.write_text(text, encoding="utf-8")
            print(written(args.output, fleet, collectors))
        else:
            sys.stdout.write(text)
    except FleetError as exc:
        return refuse(PROG, str(exc))
    except OSError as exc:
        return refuse(PROG, f"{exc.strerror or exc}: {exc.filename or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
