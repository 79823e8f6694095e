"""Turn a fleet file (one entry per bot) into a supervisor config: one [program:] per bot in a [group:].

    python deploy/supervisor/fleet.py fleet.toml -o deploy/supervisor/fleet.conf [--mkdirs] [--standalone]

Every bot runs ``candlebot`` in its own folder (``<root>/<name>``): the folder
name is the bot's name and id, its logs go to ``<folder>/logs``. supervisor
restarts a bot that dies, stops it with SIGTERM (the bot finishes its step and
exits 0 within 5 s) and keeps its console output under the bot's folder.
Bots that share a key file share the nonce sequence (it lives in the state
directory). ``--standalone`` adds the [supervisord]/[supervisorctl] sections
so that ``supervisord -c fleet.conf`` runs the fleet without a system supervisor.
Standard library only, so it runs before candlebot is installed.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

MODES = ("paper", "validate", "live")
_KIND_NAMES = {str: "string", dict: "table", tuple: "list of strings"}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


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
    cash: str | None = None
    extra_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, kind in (("name", str), ("pair", str), ("strategy", str), ("mode", str), ("params", dict), ("extra_args", tuple)):
            if not isinstance(getattr(self, name), kind):
                raise FleetError(f"bot {self.name!r}: {name} must be a {_KIND_NAMES[kind]}, got {getattr(self, name)!r}")
        if self.key_file is not None and not isinstance(self.key_file, str):
            raise FleetError(f"bot {self.name}: key_file must be a string")
        if not NAME.match(self.name):
            raise FleetError(f"bot name {self.name!r}: 1-64 letters, digits, '.', '_' or '-'")
        if self.mode not in MODES:
            raise FleetError(f"bot {self.name}: mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.mode != "paper" and not self.key_file:
            raise FleetError(f"bot {self.name}: mode {self.mode} needs key_file")
        for flag, value in (("period", self.period), ("poll", self.poll)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise FleetError(f"bot {self.name}: {flag} must be a positive number, got {value!r}")

    def argv(self, fleet: Fleet) -> list[str]:
        argv = [*fleet.command, "-x", "kraken", "-p", _number(self.period), "-t", _number(self.poll), "-c", self.pair,
                "--strategy", self.strategy]
        for name, value in self.params.items():
            text = ",".join(map(str, value)) if isinstance(value, list) else str(value).lower() if isinstance(value, bool) else str(value)
            argv += ["--param", f"{name}={text}"]
        argv += [f"--{self.mode}", "--name", self.name]
        if self.key_file:
            argv += ["--key-file", self.key_file]
        if self.cash is not None:
            argv += ["--cash", str(self.cash)]
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


def load_fleet(path: Path) -> Fleet:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FleetError(f"fleet file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetError(f"cannot read fleet file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FleetError(f"{path}: {exc}") from None
    head = data.get("fleet", {})
    known_head = {"group", "root", "command", "state_dir", "environment", "user"}
    if set(head) - known_head:
        raise FleetError(f"{path}: unknown [fleet] key(s) {', '.join(sorted(set(head) - known_head))}")
    if "root" not in head:
        raise FleetError(f"{path}: [fleet] needs root (the folder holding one folder per bot)")
    rows = data.get("bot", [])
    if not rows:
        raise FleetError(f"{path}: no [[bot]] entries")
    bots = []
    for row in rows:
        unknown = set(row) - {f for f in Bot.__dataclass_fields__}
        if unknown:
            raise FleetError(f"{path}: bot {row.get('name', '?')}: unknown key(s) {', '.join(sorted(unknown))}")
        missing = {"name", "pair", "strategy"} - set(row)
        if missing:
            raise FleetError(f"{path}: a [[bot]] lacks {', '.join(sorted(missing))}")
        extra = row.get("extra_args", [])
        if not isinstance(extra, list) or not all(isinstance(a, str) for a in extra):
            raise FleetError(f"{path}: bot {row.get('name', '?')}: extra_args must be a list of strings, e.g. [\"--cash\", \"500\"]")
        row = {**row, "extra_args": tuple(extra)}
        if isinstance(row.get("key_file"), str):
            row["key_file"] = str(_resolve(path, row["key_file"]))
        bots.append(Bot(**row))
    names = [b.name for b in bots]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise FleetError(f"{path}: bot names must be unique, repeated: {', '.join(duplicates)}")
    command = head.get("command", "candlebot")
    group = head.get("group", "candlebots")
    if not NAME.match(group):
        raise FleetError(f"{path}: group {group!r}: letters, digits, '.', '_' or '-'")
    for key in ("root", "state_dir", "command", "group", "user"):
        if key in head and not isinstance(head[key], str) and not (key == "command" and isinstance(head[key], list)):
            raise FleetError(f"{path}: [fleet] {key} must be a string")
    if not isinstance(head.get("environment", {}), dict):
        raise FleetError(f"{path}: [fleet] environment must be a table")
    return Fleet(group=group, root=_resolve(path, head["root"]),
                 command=tuple(shlex.split(command) if isinstance(command, str) else command), bots=tuple(bots),
                 state_dir=str(_resolve(path, head["state_dir"])) if head.get("state_dir") else None, environment={k: str(v) for k, v in head.get("environment", {}).items()},
                 user=head.get("user"))


def _resolve(fleet_file: Path, value: str) -> Path:
    """Paths in a fleet file are relative to the fleet file (supervisor would resolve them per bot folder)."""
    return (fleet_file.parent / Path(value).expanduser()).resolve()


def render(fleet: Fleet, *, source: str, standalone: bool = False, run_dir: Path | None = None) -> str:
    lines = [f"; generated by deploy/supervisor/fleet.py from {source}: edit the fleet file, not this one", ""]
    if standalone:
        run = run_dir or fleet.root
        lines += [
            "[supervisord]", f"logfile={_esc(str(run / 'supervisord.log'))}", f"pidfile={_esc(str(run / 'supervisord.pid'))}",
            "childlogdir=" + _esc(str(run)), "",
            "[unix_http_server]", f"file={_esc(str(run / 'supervisor.sock'))}", "",
            "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
            "[supervisorctl]", f"serverurl=unix://{_esc(str(run / 'supervisor.sock'))}", "",
        ]
    for bot in fleet.bots:
        folder = fleet.folder(bot)
        lines += [
            f"[program:{bot.name}]",
            "command=" + _esc(shlex.join(bot.argv(fleet))),
            f"directory={_esc(str(folder))}",
            "autostart=true",
            "autorestart=true",
            "startsecs=3",
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
    lines += [f"[group:{fleet.group}]", "programs=" + ",".join(b.name for b in fleet.bots), ""]
    return "\n".join(lines)


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
        return [*(self.command or collector_command(fleet.command)), "--pairs", ",".join(self.pairs),
                "--depth", str(self.depth), "--db", db, "--name", self.name, *self.extra_args]


def collector_command(bot_command: tuple[str, ...]) -> tuple[str, ...]:
    """``candlebot`` -> ``candlebot-collector`` (same folder); ``python -m candlebot`` -> ``python -m collector``."""
    if len(bot_command) >= 2 and bot_command[-2:] == ("-m", "candlebot"):
        return (*bot_command[:-1], "collector")
    head = Path(bot_command[-1]) if bot_command else Path("candlebot")
    return (*bot_command[:-1], str(head.with_name("candlebot-collector")) if head.name == "candlebot" else "candlebot-collector")


def load_collectors(path: Path, bots: tuple[Bot, ...]) -> tuple[Collector, ...]:
    """The ``[[collector]]`` entries of a fleet file (none is fine)."""
    rows = tomllib.loads(path.read_text(encoding="utf-8")).get("collector", [])
    out = []
    for row in rows if isinstance(rows, list) else []:
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
        folder = fleet.root / item.name
        lines += [f"[program:{item.name}]", "command=" + _esc(shlex.join(item.argv(fleet))), f"directory={_esc(str(folder))}",
                  "autostart=true", "autorestart=true", "startsecs=3", "startretries=3", "stopsignal=TERM",
                  "stopwaitsecs=10", "redirect_stderr=true", f"stdout_logfile={_esc(str(folder / 'logs' / 'console.log'))}",
                  "stdout_logfile_maxbytes=10MB", "stdout_logfile_backups=3"]
        if fleet.environment:
            lines.append("environment=" + ",".join(f'{k}="{_esc(v)}"' for k, v in fleet.environment.items()))
        if fleet.user:
            lines.append(f"user={fleet.user}")
        lines.append("")
    lines += [f"[group:{fleet.group}-collectors]", "programs=" + ",".join(c.name for c in collectors), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fleet.py", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("fleet", type=Path, help="fleet file (TOML), see fleet.example.toml")
    parser.add_argument("-o", "--output", type=Path, help="write the config here (default: stdout)")
    parser.add_argument("--mkdirs", action="store_true", help="create every bot's folder and logs/ folder")
    parser.add_argument("--standalone", action="store_true", help="include the sections supervisord itself needs")
    parser.add_argument("--run-dir", type=Path, help="with --standalone: where supervisord keeps its socket, pid and log")
    args = parser.parse_args(argv)
    try:
        fleet = load_fleet(args.fleet)
        collectors = load_collectors(args.fleet, fleet.bots)
        text = render(fleet, source=str(args.fleet), standalone=args.standalone, run_dir=args.run_dir)
        text += render_collectors(fleet, collectors)
        if args.mkdirs:
            for bot in fleet.bots:
                (fleet.folder(bot) / "logs").mkdir(parents=True, exist_ok=True)
            for item in collectors:
                (fleet.root / item.name / "logs").mkdir(parents=True, exist_ok=True)
        if args.output:
            args.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    except FleetError as exc:
        print(f"fleet.py: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"fleet.py: error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
