"""``candlebot status [--state-dir DIR] [--json] [--watch [SECONDS]] [--supervisor-url URL | --supervisor-config FILE]``."""

from __future__ import annotations

import dataclasses
import http.client
import json
import sys
import time
import xmlrpc.client
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from candlebot.output.botstatus import BotStatus, fleet_status
from candlebot.output.pnl import NET_PNL, NET_PNL_MEANING
from candlebot.cli.args import check_seconds
from candlebot.cli.oneline import OneLineParser
from candlebot.errors import ConfigError
from candlebot.live.paths import default_state_dir
from candlebot.output.supervisor_state import program_states, server_url

COLUMNS = ("bot", "mode", "pair", "strategy", "position", "unrealized", NET_PNL, "exits", "fees", "heartbeat", "fails",
           "pending", "hold", "last error")


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="candlebot status", description="One table of every bot in a state directory.")
    parser.add_argument("--state-dir", help="the bots' state directory (default: the bots' default)")
    parser.add_argument("--json", action="store_true", help="one JSON array instead of the table")
    parser.add_argument("--watch", nargs="?", const="2", metavar="SECONDS", help="refresh every SECONDS (2) until Ctrl-C")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--supervisor-url", help="add each bot's supervisor state: unix:///path/supervisor.sock or http://host:port")
    where.add_argument("--supervisor-config", help="the supervisord.conf that names the supervisor's socket")
    args = parser.parse_args(argv)
    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir()
    if not state_dir.is_dir():
        if args.state_dir:
            raise ConfigError(f"--state-dir: {state_dir} is not a folder")
        raise ConfigError(f"no bots in the default state dir: {state_dir} is not a folder yet (a bot's first start "
                          "makes it); bots elsewhere: --state-dir DIR")
    url = server_url(args.supervisor_url, args.supervisor_config)
    every = None
    if args.watch is not None:
        try:
            every = float(args.watch)
        except ValueError:
            raise ConfigError(f"--watch takes seconds, got {args.watch!r}") from None
        check_seconds(every, "--watch", maximum=86_400)
    while True:
        rows = collect(state_dir, url, time.time())
        if every is not None and not args.json and sys.stdout.isatty():
            sys.stdout.write("\x1b[H\x1b[2J")  # a terminal shows one table, refreshed in place
        if args.json:
            print(json.dumps([as_json(r) for r in rows]), flush=True)
        else:
            print_table(rows, sys.stdout, state_dir, supervisor=url is not None)
        if every is None:
            return 0
        time.sleep(every)


def collect(state_dir: Path, url: str | None, now: float) -> list[BotStatus]:
    rows = fleet_status(state_dir, now)
    if url is None:
        return rows
    try:
        states = program_states(url)
    except (OSError, xmlrpc.client.Error, http.client.HTTPException) as exc:
        unreachable = f"unreachable ({exc})"
        return [dataclasses.replace(r, supervisor=unreachable) for r in rows]
    return [dataclasses.replace(r, supervisor=states.get(r.name, "not in supervisor")) for r in rows]


def as_json(row: BotStatus) -> dict[str, object]:
    """Money as decimal strings (exact), times as unix seconds."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in dataclasses.asdict(row).items()}


def print_table(rows: list[BotStatus], out: TextIO, state_dir: Path, *, supervisor: bool) -> None:
    if not rows:
        print(f"no bots in {state_dir / 'bots'}", file=out)
        return
    header = COLUMNS + (("supervisor",) if supervisor else ())
    table = [header] + [_cells(r) + ((r.supervisor or "-",) if supervisor else ()) for r in rows]
    widths = [max(len(line[i]) for line in table if len(line) == len(header)) for i in range(len(header))]
    for line in table:
        if len(line) < len(header):  # a file that could not be read: its name and the problem
            print(f"{line[0]:<{widths[0]}}  {line[1]}", file=out)
            continue
        print("  ".join(cell.ljust(w) if i in (0, 1, 2, 3, 12, 13, 14) else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(line, widths))).rstrip(), file=out)
    print(f"{NET_PNL}: {NET_PNL_MEANING}; unrealized: open volume x the last price - its cost", file=out)


def _cells(r: BotStatus) -> tuple[str, ...]:
    if r.problem is not None:
        return r.name, f"PROBLEM: {r.problem}"
    error = (r.last_error or "-").replace("\n", " ")
    return (r.name, r.mode or "-", r.pair or "-", r.strategy or "-", _num(r.position),
            "-" if r.unrealized is None else f"{r.unrealized:+}", f"{r.net_pnl:+}", _exits(r), str(r.fees),
            _age(r), str(r.failures), str(r.pending), "HOLD" if r.hold else "-", error[:60] + ("..." if len(error) > 60 else ""))


def _exits(r: BotStatus) -> str:
    """How the closed trades ended: ``3 signal, 2 stop loss``."""
    parts = [f"{n} {what}" for n, what in ((r.signal_exits, "signal"), (r.stop_loss_exits, "stop loss")) if n]
    return ", ".join(parts) or "-"


def _num(value: Decimal) -> str:
    return "0" if value == 0 else f"{value.normalize():f}"


def _age(r: BotStatus) -> str:
    if r.heartbeat_age_s is None:
        return "never"
    age = r.heartbeat_age_s
    text = f"{age:.0f}s ago" if age < 120 else f"{age / 60:.0f}m ago" if age < 7200 else f"{age / 3600:.0f}h ago"
    return f"{text} (stopped)" if r.stopped else text
