"""``candlebot-collector`` (also ``python -m candlebot.collector``): record books, print one, export rows.

    candlebot-collector -c XBTUSD -c ETHUSD [--depth 10] [--db sqlite:///books.sqlite] [--ws-url URL] ...
    candlebot-collector book --db URL -c XBTUSD --at TIME [--depth N]
    candlebot-collector export --db URL -c XBTUSD --from TIME --to TIME [--format csv|csv.gz] [-o FILE]

(also ``candlebot collector ...``; ``--pairs A,B`` and ``--rest-url`` are the older spellings of ``-c`` and ``--kraken-url``)

A user mistake is one line on stderr and exit 2; SIGTERM stops the recorder with exit 0. Flags become
``CollectorSettings``; ``candlebot.assembly.collector`` builds the recorder.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import itertools
import logging
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence, TextIO

from candlebot.cli.oneline import OneLineParser, refuse
from candlebot.cli.subcommands import unknown_subcommand
from candlebot.errors import ConfigError

if TYPE_CHECKING:
    from candlebot.assembly.collector import L2Row

PROG = "candlebot-collector"
COMMANDS = ("run", "book", "export")


def _number(kind: type, minimum: float, strict: bool) -> Callable[[str], float | int]:
    """An argparse type: a ``kind`` above ``minimum`` (or at it, unless ``strict``)."""

    def convert(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {'whole ' if kind is int else ''}number, got {text!r}") from None
        if not math.isfinite(value):  # nan compares false with everything, inf overflows the microsecond clocks
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {minimum:g}, got {text!r}")
        return value

    return convert


_positive = _number(float, 0, True)
_count = _number(int, 1, False)


def run_parser(prog: str = PROG) -> argparse.ArgumentParser:
    from candlebot.cli.sinks import add_sink_arguments
    from candlebot.assembly.collector import DEPTHS, RecorderTuning

    default = RecorderTuning()  # the recorder's own defaults, written once

    parser = OneLineParser(prog=prog, description="Record Kraken WebSocket v2 order books, every message verified.",
                           epilog=f"Reading back: '{prog} book --db DB --pair PAIR --at TIME' prints a book as it was; "
                                  f"'{prog} export --db DB --pair PAIR --from START --to END' writes them as CSV "
                                  "(each has its own --help).")
    parser.add_argument("-c", "--pair", dest="pair_list", action="append", default=[], metavar="PAIR",
                        help="a pair as the bots name it, e.g. XBTUSD (repeatable)")
    parser.add_argument("--pairs", default="", metavar="PAIR,PAIR", help="comma-separated pairs, e.g. XBTUSD,ETHUSD (the older spelling; "
                        "adds to -c)")
    parser.add_argument("--depth", type=int, choices=DEPTHS, default=default.depth,
                        help=f"book depth to subscribe (default {default.depth})")
    parser.add_argument("--db", default="sqlite:///collector.sqlite", metavar="URL",
                        help="sqlite:///PATH (default sqlite:///collector.sqlite) or postgresql://USER@HOST:PORT/DB")
    parser.add_argument("--ws-url", default=os.environ.get("CANDLEBOT_KRAKEN_WS_URL", default.ws_url), metavar="URL",
                        help=f"Kraken WebSocket v2 address the books come from (default $CANDLEBOT_KRAKEN_WS_URL, else "
                             f"{default.ws_url})")
    parser.add_argument("--kraken-url", "--rest-url", dest="rest_url", metavar="URL",
                        default=os.environ.get("CANDLEBOT_KRAKEN_URL", default.rest_url),
                        help="Kraken REST base URL (AssetPairs precisions, Depth fallback); --rest-url is the older spelling")
    parser.add_argument("--name", default="collector", help="the collector's name: metric tag bot:NAME, alerts")
    parser.add_argument("--snapshot-interval", type=_positive, default=default.snapshot_interval_s, metavar="SECONDS",
                        help=f"seconds between stored snapshots ({default.snapshot_interval_s:g})")
    parser.add_argument("--max-pending", type=_count, default=default.max_pending, metavar="MESSAGES",
                        help=f"writer queue bound, in messages ({default.max_pending})")
    parser.add_argument("--stall-timeout", type=_positive, default=default.stall_timeout_s, metavar="SECONDS",
                        help=f"reconnect after this many silent seconds ({default.stall_timeout_s:g})")
    parser.add_argument("--resync-timeout", type=_positive, default=default.resync_timeout_s, metavar="SECONDS",
                        help=f"seconds to wait for a resubscribed snapshot before REST Depth ({default.resync_timeout_s:g})")
    parser.add_argument("--unsynced-alert", type=_positive, default=default.unsynced_alert_s, metavar="SECONDS",
                        help=f"Slack alert when a pair has no verified book for this many seconds ({default.unsynced_alert_s:g})")
    parser.add_argument("--status-every", type=_number(float, 0, False), default=10.0, metavar="SECONDS",
                        help="a status line on stderr this often: messages/s, books in sync, gaps (default 10; 0: none)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="the least severe log lines written to stderr (default INFO)")
    add_sink_arguments(parser)
    return parser


def read_parser(command: str, prog: str = PROG) -> argparse.ArgumentParser:
    from candlebot.cli.args import FROM_FLAGS, TO_FLAGS

    parser = OneLineParser(prog=f"{prog} {command}")
    parser.set_defaults(prog=f"{prog} {command}")
    parser.add_argument("--db", required=True, metavar="URL", help="sqlite:///PATH or postgresql://...")
    parser.add_argument("-c", "--pair", required=True)
    if command == "book":
        parser.add_argument("--at", required=True, help="unix seconds or ISO 8601 (UTC when no zone)")
        parser.add_argument("--depth", type=_count, help="levels per side to print (default: all)")
    else:
        parser.add_argument(*FROM_FLAGS, dest="start", required=True, metavar="TIME",
                            help="unix seconds or ISO 8601; -s/--since/--start are aliases")
        parser.add_argument(*TO_FLAGS, dest="end", required=True, metavar="TIME",
                            help="unix seconds or ISO 8601 (exclusive); -e/--until/--end are aliases")
        parser.add_argument("--format", choices=["csv", "csv.gz"], help="default: from -o's suffix, else csv")
        parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="file to write (default, or -: stdout)")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """``prog``: the name it was run by (``candlebot collector`` through candlebot's main), for --help and errors."""
    args = list(sys.argv[1:] if argv is None else argv)
    said = prog  # a read command's errors are said as its argument errors are: `candlebot collector book: error: ...`
    try:
        if args and args[0] in ("book", "export"):
            command = args.pop(0)
            said = f"{prog} {command}"
            parsed = read_parser(command, prog).parse_args(args)
            return print_book(parsed) if command == "book" else export(parsed)
        if args and args[0] == "run":
            args.pop(0)
        elif args and not args[0].startswith("-"):  # the run command takes no positional argument
            raise ConfigError(unknown_subcommand("collector", args[0], COMMANDS))
        return record(run_parser(prog).parse_args(args))
    except ConfigError as exc:
        return refuse(said, str(exc))
    except BrokenPipeError:  # `book ... | head`, `export ... | head`
        from candlebot.cli.pipes import reader_gone

        return reader_gone()


class _FirstOnly(logging.Filter):
    """DogStatsD's client logs every packet it cannot send: with no agent listening, one line a second forever
    (each metrics pass). The first says the agent is missing; the rest only fill the log."""

    def __init__(self) -> None:
        super().__init__()
        self.said = False

    def filter(self, record: logging.LogRecord) -> bool:
        said, self.said = self.said, True
        return not said


def record(args: argparse.Namespace) -> int:
    from candlebot.assembly.collector import build_collector
    from candlebot.assembly.settings import CollectorSettings
    from candlebot.cli.sinks import sink_flags
    from candlebot.output.sinks.config import sink_config

    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("datadog.dogstatsd").addFilter(_FirstOnly())
    names = list(dict.fromkeys(name.strip() for name in [*args.pair_list, *args.pairs.split(",")] if name.strip()))
    if not names:
        raise ConfigError("name the pairs to record: -c XBTUSD -c ETHUSD (or --pairs XBTUSD,ETHUSD)")
    if not args.ws_url.startswith(("ws://", "wss://")):
        raise ConfigError(f"--ws-url {args.ws_url!r}: expected ws:// or wss://")
    sinks = sink_config(sink_flags(args), os.environ, statsd_default=True, slack_default=True)
    settings = CollectorSettings(name=args.name, pairs=tuple(names), db=args.db, depth=args.depth, ws_url=args.ws_url,
                                 rest_url=args.rest_url, snapshot_interval_s=args.snapshot_interval,
                                 max_pending=args.max_pending, stall_timeout_s=args.stall_timeout,
                                 resync_timeout_s=args.resync_timeout, unsynced_alert_s=args.unsynced_alert,
                                 status_every_s=args.status_every)
    return build_collector(settings, sinks).run()


def print_book(args: argparse.Namespace) -> int:
    from candlebot.assembly.collector import NoBook, book_at

    try:
        book = book_at(args.db, args.pair, args.at, args.depth)
    except NoBook as exc:
        print(f"{args.prog}: {exc}", file=sys.stderr)
        return 1
    out = sys.stdout
    print(f"{book.pair} at {book.utc}: {len(book.asks)} asks, {len(book.bids)} bids", file=out)
    print(f"{'side':<4} {'price':>20} {'qty':>20}", file=out)
    for price, qty in reversed(book.asks):
        print(f"{'ask':<4} {price:>20f} {qty:>20f}", file=out)
    for price, qty in book.bids:
        print(f"{'bid':<4} {price:>20f} {qty:>20f}", file=out)
    return 0


def export(args: argparse.Namespace) -> int:
    from candlebot.assembly.collector import l2_rows, parse_time

    if parse_time(args.start) >= parse_time(args.end):
        raise ConfigError("--from must be before --to")
    if args.output is not None and str(args.output) == "-":  # the usual spelling of stdout
        args.output = None
    fmt = args.format or ("csv.gz" if args.output and args.output.name.endswith(".gz") else "csv")
    rows = l2_rows(args.db, args.pair, args.start, args.end)
    first = next(rows, None)  # opens the database: a bad --db or --pair leaves no file and no header behind
    rows = itertools.chain([first] if first is not None else [], rows)
    if args.output is None:
        if fmt == "csv.gz":
            with gzip.open(sys.stdout.buffer, "wt", newline="") as stream:
                _write_rows(stream, rows)
        else:
            _write_rows(sys.stdout, rows)
        return 0
    try:
        opener = gzip.open(args.output, "wt", newline="") if fmt == "csv.gz" else open(args.output, "w", newline="")
    except OSError as exc:
        raise ConfigError(f"-o {args.output}: {exc.strerror}") from None
    with opener as stream:
        _write_rows(stream, rows)
    return 0


def _write_rows(stream: TextIO | io.TextIOWrapper, rows: Iterable[L2Row]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["timestamp", "local_timestamp", "is_snapshot", "side", "price", "amount"])
    for row in rows:
        writer.writerow([row.timestamp, row.local_timestamp, "true" if row.is_snapshot else "false", row.side,
                         f"{row.price:f}", f"{row.amount:f}"])
