"""``candlebot data list [--data-dir DIR]``: what history is on disk.

One line per candle file (``<PAIR>_<period>.csv[.gz]``, as ``download`` and ``download --import`` write
them): pair, period, first and last candle, rows, and the periods without trades: rows missing from the file
(Kraken's archives leave them out; a backtest fills them with flat candles when it loads the file, as a bot
and Kraken's OHLC make them) and flat rows already in it (``download`` writes them). One line per trade download
(``<PAIR>/download.json``): trades stored, first and last, and whether it had caught up. Candle files are read
through the candle cache (the user's cache directory, ``candlecache.default_cache_dir``), so a second listing is fast.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TextIO

from candlebot.data.candlecache import CandleCache
from candlebot.cli.args import ArgumentParser
from candlebot.cli.helptext import description
from candlebot.cli.subcommands import unknown_subcommand
from candlebot.cli.download import DEFAULT_DATA_DIR
from candlebot.data.download.candles import find_gaps, flat_candles, utc_text
from candlebot.data.download.tradestore import STATE, TradeStore
from candlebot.errors import ConfigError, DataFileError

CANDLE_FILE = re.compile(r"^([A-Za-z0-9]+)_(\d+)([smhd])\.csv(\.gz)?$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SUBCOMMANDS = {"list": "what candle and trade files are on disk"}


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="candlebot data", description=description(__doc__))
    parser.add_argument("subcommand", nargs="?", metavar="SUBCOMMAND",
                        help=", ".join(f"{name}: {text}" for name, text in SUBCOMMANDS.items()))
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, metavar="DIR",
                        help="the data folder to list (default ./data/kraken), as candlebot download --data-dir writes it")
    return parser


def main(argv: list[str], out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    _check_subcommand(args.subcommand)
    directory: Path = args.data_dir
    if not directory.is_dir():
        raise ConfigError(f"no data directory at {directory} (candlebot download writes one)")
    cache = CandleCache()
    rows = [("pair", "period", "first", "last", "rows", "periods without trades")]
    for path in sorted(directory.iterdir()):
        match = CANDLE_FILE.match(path.name)
        if match and path.is_file():
            rows.append(_candle_row(cache, path, match.group(1), int(match.group(2)) * UNITS[match.group(3)],
                                    match.group(2) + match.group(3)))
        elif path.is_dir() and (path / STATE).is_file():
            rows.append(_trades_row(path))
    if len(rows) == 1:
        out.write(f"nothing in {directory}\n")
        return 0
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
    return 0


def _check_subcommand(word: str | None) -> None:
    """Named as the user sees it, a subcommand (argparse said 'argument action: invalid choice')."""
    if word in SUBCOMMANDS:
        return
    names = ", ".join(SUBCOMMANDS)
    if word is None:
        raise ConfigError(f"name a data subcommand: {names} (candlebot data list)")
    raise ConfigError(unknown_subcommand("data", word, list(SUBCOMMANDS)))


def _candle_row(cache: CandleCache, path: Path, pair: str, period: int, label: str) -> tuple[str, ...]:
    try:
        candles = cache.load(path)
    except DataFileError as exc:
        return (pair, label, "-", "-", "-", f"unreadable: {exc}")
    gaps, flat = find_gaps(candles.times, period), flat_candles(candles)
    notes = [f"{gaps.missing:,} missing in {gaps.runs:,} gaps (filled flat when loaded)"] if gaps.missing else []
    notes += [f"{flat.missing:,} flat"] if flat.missing else []
    return (pair, label, utc_text(float(candles.times[0])), utc_text(float(candles.times[-1])), f"{len(candles):,}",
            ", ".join(notes) or "none")


def _trades_row(path: Path) -> tuple[str, ...]:
    state = TradeStore(path).load()
    assert state is not None
    status = "caught up" if state.caught_up else "incomplete: run download again"
    return (state.pair, "trades", utc_text(state.first), utc_text(state.last), f"{state.trades:,}", status)
