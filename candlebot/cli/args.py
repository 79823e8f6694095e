"""Command-line flags (the original bot's ``-x -p -t -c -s -e`` plus candlebot's) and their validation.

Every user mistake becomes a ConfigError with one line of text; the entry
point prints it and exits 2.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Mapping, NoReturn

from candlebot import __version__
from candlebot.cli import SUBCOMMANDS
from candlebot.cli.sinks import add_sink_arguments
from candlebot.assembly.venues import DEFAULT_URL, URL_ENV, KrakenConfig, kraken_config
from candlebot.chart import period_seconds
from candlebot.errors import ConfigError

EXCHANGES = ("kraken",)


def add_kraken_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that configure a live Kraken exchange."""
    group = parser.add_argument_group("Kraken")
    group.add_argument("--key-file", help="krakenex key file (line 1 key, line 2 secret; chmod 600); "
                       "default: $KRAKEN_API_KEY / $KRAKEN_API_SECRET")
    group.add_argument("--kraken-url", default=None,
                       help=f"Kraken REST base URL (default ${URL_ENV} or {DEFAULT_URL})")
    group.add_argument("--kraken-tier", default="starter", choices=["starter", "intermediate", "pro", "none"],
                       help="account tier for the client-side rate counter (default starter)")
    group.add_argument("--kraken-timeout", type=float, default=10.0, help="per-call read timeout, seconds")


def venue_config(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> KrakenConfig:
    """The Kraken flags (``--kraken-url``, ``--kraken-tier``, ``--kraken-timeout``) of a running bot (its safety
    policy is the assembly's, whatever these say)."""
    return kraken_config(getattr(args, "kraken_url", None), getattr(args, "kraken_tier", "starter"),
                         getattr(args, "kraken_timeout", 10.0), environ)


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but errors are raised (one line, exit 2 at the top) instead of printing usage."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)


class Spelled(str):
    """A flag's value that remembers the flag as typed (``-o``, ``--report``): a refusal long after parsing (a missing
    folder, a failed write) names the flag as the user wrote it, whichever of its spellings that was."""

    flag: str


class KeepSpelling(argparse.Action):
    """Store the value as a ``Spelled`` string."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        value = Spelled(values)
        value.flag = option_string or self.option_strings[0]
        setattr(namespace, self.dest, value)


def spelled(value: str, default: str) -> str:
    """The flag ``value`` was given with, else ``default`` (a parser that does not keep spellings)."""
    return getattr(value, "flag", default)


BACKTEST, BOT = "backtest", "bot"
# the one spelling of each concept in every command, then the older spellings kept as aliases (README: Flag names)
FROM_FLAGS = ("--from", "-s", "--since", "--start")
TO_FLAGS = ("--to", "-e", "--until", "--end")


def build_parser(uses: tuple[str, ...] = (BACKTEST, BOT), prog: str = "candlebot", outputs: bool = True) -> ArgumentParser:
    """The trading flags: a backtest's (``uses=(BACKTEST,)``), a bot's (``(BOT,)``) or both (``candlebot [flags]``);
    without ``outputs`` (for ``optimize``, which shows its results its own way) no output, metric or alert flags.

    A parser for one use still answers every attribute the other reads, with its default: ``--help`` shows only
    the flags that apply, and the code behind it reads one namespace shape.
    """
    both = BACKTEST in uses and BOT in uses
    parser = ArgumentParser(
        prog=prog,
        description=("Candlestick trading bot for Kraken: backtest with --data, otherwise a running bot." if both else
                     "Backtest a strategy on a candle or trade file." if BACKTEST in uses else
                     "Run a bot on Kraken: --paper (default, no key), --validate or --live."),
        epilog=("other commands (each with --help; candlebot help lists them):\n  "
                + "\n  ".join(f"candlebot {name}" for name in SUBCOMMANDS) + "\n" if both else "")
               + "start a strategy of your own with: candlebot new-strategy NAME (docs/strategies.md)",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the epilog's lines; option help still wraps
    )
    parser.set_defaults(mode=None)
    parser.add_argument("-V", "--version", action="version", version=f"candlebot {__version__}")
    market = parser.add_argument_group("market")
    market.add_argument("-x", "--exchange", default="kraken", help="exchange to trade on (kraken)")
    market.add_argument("-c", "--pair", default="XBTUSD", help="currency pair, e.g. XBTUSD or XXBTZUSD (default XBTUSD; "
                        "one per bot or backtest: the last -c counts)")
    market.add_argument("-p", "--period", type=period_minutes, help="candle period in minutes, fractions allowed (0.05 = 3 s); "
                        + ("bots default to 5, backtests to the file's period" if both else
                           "default: the file's period" if BACKTEST in uses else "default 5"))
    if BOT in uses:
        market.add_argument("-t", "--poll", type=float, default=5.0, help="ticker polling interval in seconds, fractions allowed (default 5)")
    strategy = parser.add_argument_group("strategy")
    strategy.add_argument("--strategy", required=True, help="a shipped strategy (e.g. sma_cross), or your own: "
                          "path/to/file.py[:Class], package.module[:Class], or NAME for NAME.py in --strategy-path or "
                          "the current directory (docs/strategies.md)")
    strategy.add_argument("--strategy-path", action="append", default=[], metavar="DIR",
                          help="a directory to find your strategies in, before the current directory (repeatable)")
    strategy.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="strategy parameter (repeatable)")
    money = parser.add_argument_group("money")
    money.add_argument("--fee", help="taker fee as a fraction (0.0026) or percent (0.26%%); default: the pair's fee")
    money.add_argument("--cash", help="quote the bot may trade with (default 10000; validate and live bots: the quote balance at first start)")
    money.add_argument("--stake", help="quote amount each new trade commits (default: cash / free trade slots)")
    money.add_argument("--max-slippage", default="0.5%", help="how far beyond the book's price for the volume an order "
                       "may fill, as a fraction (0.005) or percent (0.5%%); orders are sized at that price (default 0.5%%)")
    if BOT in uses:
        money.add_argument("--max-price-deviation", default="5%", help="running bots send no order when the best bid/ask is "
                           "further than this from the last trade or the last close, fraction or percent (default 5%%)")
    if BACKTEST in uses:
        _add_backtest_arguments(parser, required=not both)
    if BOT in uses:
        _add_bot_arguments(parser)
    if outputs:
        _add_output_arguments(parser, uses)
    if not both:
        _default_the_others(parser)
    return parser


def _add_output_arguments(parser: ArgumentParser, uses: tuple[str, ...]) -> None:
    both = BACKTEST in uses and BOT in uses
    output = parser.add_argument_group("output")
    if BACKTEST in uses:  # a bot refuses them (its summary is its log's last line): `run --help` does not offer them
        output.add_argument("--json", action="store_true", help=("backtest: " if both else "") +
                            "print the summary as one JSON object (last line of stdout)")
        output.add_argument("--trades-csv", metavar="PATH", help=("backtest: " if both else "") +
                            "write one row per trade to PATH")
    output.add_argument("--quiet", action="store_true", help="no ticker/ledger lines, only the summary")
    if BACKTEST in uses:
        output.add_argument("-v", "--verbose", action="store_true", help="print the ticker and ledger lines of every candle before the summary"
                            if not both else "backtest: print the ticker and ledger lines of every candle before the summary")
        output.add_argument("-o", "--output", "--report", dest="report", metavar="FILE.html", action=KeepSpelling,
                            help=("backtest: " if both else "") + "write one self-contained HTML report (candles, indicators, "
                            "fills, equity, metrics); --report is the older spelling")
        output.add_argument("--png", dest="report_png", metavar="FILE.png", action=KeepSpelling,
                            help=("backtest: " if both else "") + "write a static picture of the report (as candlebot report --png)")
        output.add_argument("--report-png", dest="report_png", action=KeepSpelling, help=argparse.SUPPRESS)  # the older name
    add_sink_arguments(parser)


def _add_backtest_arguments(parser: ArgumentParser, required: bool) -> None:
    backtest = parser.add_argument_group("backtest")
    backtest.add_argument("--data", required=required,
                          help="candle or trade CSV (plain or .gz) to backtest on; 'demo' for a generated series")
    backtest.add_argument(*FROM_FLAGS, dest="start", metavar="TIME",
                          help="first candle to trade: date, datetime or unix seconds (UTC); -s/--since/--start are aliases")
    backtest.add_argument(*TO_FLAGS, dest="end", metavar="TIME",
                          help="stop before this time: date, datetime or unix seconds (UTC); -e/--until/--end are aliases")
    backtest.add_argument("--cache-dir", default=os.environ.get("CANDLEBOT_CACHE_DIR") or None,
                          help="where the candle cache goes (default: $CANDLEBOT_CACHE_DIR, else "
                               "$XDG_CACHE_HOME/candlebot, else ~/.cache/candlebot; never beside the data file)")
    backtest.add_argument("--no-cache", action="store_true", help="parse the candle file every time, write no cache")
    backtest.add_argument("--slippage-bps", default="0", help="move each fill against you by this many basis points")
    backtest.add_argument("--spread", default="0", help="bid-ask spread as a fraction (0.0004) or percent (0.04%%): every "
                          "fill pays half of it against you, as a bot buying at the ask and selling at the bid does "
                          "(default 0; candlebot replay measures what your bots paid)")
    backtest.add_argument("--keep-gaps", action="store_true", help="keep periods without trades out of the candles, as "
                          "Kraken's downloadable archives do; a bot never sees data that way (it makes a flat candle at "
                          "the last price, as Kraken's OHLC does), so results then predict no bot")


def _add_bot_arguments(parser: ArgumentParser) -> None:
    bot = parser.add_argument_group("running bot" if parser.prog != "candlebot" else "running bot (no --data)")
    modes = bot.add_mutually_exclusive_group()
    modes.add_argument("--paper", dest="mode", action="store_const", const="paper", help="simulated fills on live prices (default; no key)")
    modes.add_argument("--validate", dest="mode", action="store_const", const="validate", help="Kraken checks every order (validate=true), fills are simulated")
    modes.add_argument("--live", dest="mode", action="store_const", const="live", help="real orders; needs a key")
    bot.add_argument("--name", help="bot name (default: the name of the folder it runs in)")
    bot.add_argument("--state-dir", help="where the bot's database and nonce files live (default: $CANDLEBOT_STATE_DIR or ~/.local/share/candlebot)")
    bot.add_argument("--log-dir", help="where log files go (default: ./logs)")
    bot.add_argument("--stop-after", type=float, metavar="SECONDS", help="stop by itself after this long")
    bot.add_argument("--reconcile-window", type=float, default=120.0, metavar="SECONDS",
                     help="how long a live order whose outcome is unknown may take to appear on Kraken "
                          "before it counts as never placed (default 120)")
    bot.add_argument("--audit-interval", type=float, default=600.0, metavar="SECONDS",
                     help="live bots compare their books with the Kraken account at start and this often (default 600)")
    bot.add_argument("--crash-limit", type=int, default=5, metavar="N",
                     help="after N crashes (exit 1, a signal) within --crash-window, the next start refuses with one "
                          "line, one alert and exit 2 instead of being restarted again (default 5; 0: no limit)")
    bot.add_argument("--crash-window", type=float, default=900.0, metavar="SECONDS",
                     help="the window --crash-limit counts crashes in (default 900)")
    add_kraken_arguments(parser)


def _default_the_others(parser: ArgumentParser) -> None:
    """The attributes only the other use has, at their defaults (``--data`` None: a bot; ``--live`` unset: a backtest)."""
    own = {action.dest for action in parser._actions}
    parser.set_defaults(**{action.dest: action.default for action in build_parser()._actions
                           if action.dest not in own and action.dest != argparse.SUPPRESS})


def check_exchange(name: str) -> str:
    if name.lower() not in EXCHANGES:
        raise ConfigError(f"unknown exchange {name!r} (candlebot trades on: {', '.join(EXCHANGES)})")
    return name.lower()


def parse_time(text: str, flag: str) -> float:
    """A date, a datetime (naive = UTC) or unix seconds."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    from dateutil import parser as dateparser  # imported on demand: it costs 20 ms at start-up

    try:
        moment = dateparser.parse(text)
    except (ValueError, OverflowError):
        raise ConfigError(f"{flag}: cannot read {text!r} as a date, datetime or unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).timestamp()


def parse_range(start: str | None, end: str | None) -> tuple[float | None, float | None]:
    first = parse_time(start, "--from") if start else None
    last = parse_time(end, "--to") if end else None
    if first is not None and last is not None and first >= last:
        raise ConfigError(f"--from ({_iso(first)}) must be before --to ({_iso(last)})")
    return first, last


def parse_fee(text: str) -> Decimal:
    percent = text.strip().endswith("%")
    value = _decimal(text.strip().rstrip("%"), "--fee")
    if percent:
        value /= 100
    if value < 0:
        raise ConfigError(f"--fee must be >= 0, got {text}")
    if value >= Decimal("0.1"):
        raise ConfigError(f"--fee {text} is {value * 100}% per fill; write a fraction (0.0026) or a percent (0.26%)")
    return value


def parse_fraction(text: str, flag: str, *, allow_zero: bool = True) -> Decimal:
    """A fraction (0.005) or a percent (0.5%) within [0, 1), like --fee; 0 only with ``allow_zero``."""
    stripped = text.strip()
    value = _decimal(stripped.rstrip("%"), flag)
    if stripped.endswith("%"):
        value /= 100
    if not (value >= 0 if allow_zero else value > 0) or value >= 1:
        raise ConfigError(f"{flag} must be a fraction within {'[0' if allow_zero else '(0'}, 1) or a percent (0.5%), got {text}")
    return value


MAX_AMOUNT = Decimal("1e12")  # quote units: more than any account, and money math keeps 28 significant digits


def parse_amount(text: str, flag: str, *, allow_zero: bool = False) -> Decimal:
    value = _decimal(text, flag)
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{flag} must be {'>= 0' if allow_zero else '> 0'}, got {text}")
    if value > MAX_AMOUNT:
        raise ConfigError(f"{flag} must be at most {MAX_AMOUNT:,.0f}, got {text}")
    return value


def period_minutes(text: str) -> float:
    """The argparse type of ``-p``: minutes that make whole seconds, refused at parse time so the line names ``-p``
    (``period_seconds`` said only "candle period ..." once the run had begun)."""
    try:
        minutes = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of minutes, got {text!r}") from None
    try:
        period_seconds(minutes)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return minutes


def check_seconds(value: float | None, flag: str, *, maximum: float, allow_zero: bool = False) -> None:
    """A finite duration within bounds (``inf`` would overflow a sleep; days-long polls are a typo)."""
    if value is None:
        return
    low_ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and low_ok and value <= maximum):
        raise ConfigError(f"{flag} must be a number of seconds within {'[0' if allow_zero else '(0'}, {maximum:g}], got {value}")


def _decimal(text: str, flag: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ConfigError(f"{flag}: {text!r} is not a number") from None
    if not value.is_finite():
        raise ConfigError(f"{flag}: {text!r} is not a finite number")
    return value


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
