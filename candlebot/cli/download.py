"""``candlebot download``: Kraken history into the data directory, as candle CSVs the backtester reads.

    candlebot download -c PAIR [-c PAIR ...] -p MINUTES --from DATE [--to DATE] [--data-dir DIR]
    candlebot download --import FILE.zip [-c PAIR ...] [--data-dir DIR]

Trades are paged from the public Trades endpoint (``candlebot.data.download.trades``), one thread per pair
(Kraken limits public calls per IP and pair), into ``<data-dir>/<PAIR>/trades.csv``; candles of ``-p``
minutes are rebuilt from all of them into ``<data-dir>/<PAIR>_<period>.csv`` and checked against
Kraken's OHLC candles where those overlap. Ctrl-C (or SIGTERM) stops after the page in flight; running
the same command again continues from the saved cursor. An earlier ``--since`` on a folder that holds trades
extends its history backwards (``candlebot.data.download.prepend``). Exit codes: 0 done, 1 an exchange failure or
a check that found differences, 2 a user mistake, 130 interrupted.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TextIO

from candlebot.chart import period_seconds
from candlebot.cli.args import FROM_FLAGS, TO_FLAGS, ArgumentParser, KeepSpelling, parse_time, period_minutes, spelled
from candlebot.cli.helptext import description
from candlebot.data.download.candles import Gaps, candles_from_download, flat_candles, period_label, utc_text, write_candles
from candlebot.data.download.ohlc_check import OhlcCheck, check_candles, parse_ohlc
from candlebot.data.history import KRAKEN_INTERVALS
from candlebot.data.download.ohlcvt import import_archive
from candlebot.data.download.pace import PacedCall, Pacer
from candlebot.data.download.prepend import prepend_history
from candlebot.data.download.trades import PairDownload, PublicCall, download_trades
from candlebot.data.download.tradestore import DownloadState, TradeStore
from candlebot.errors import ConfigError, ExchangeError, FatalExchangeError
from candlebot.output.lines import plural

DEFAULT_DATA_DIR = Path("data") / "kraken"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="candlebot download", description=description(__doc__))
    parser.add_argument("-c", "--pair", action="append", default=[], help="Kraken pair, e.g. XBTUSD (repeatable)")
    parser.add_argument("-p", "--period", type=period_minutes, help="candle period in minutes (fractions allowed)")
    parser.add_argument(*FROM_FLAGS, dest="since", metavar="TIME",
                        help="first trade to fetch: date, datetime or unix seconds (UTC); -s/--since/--start are aliases")
    parser.add_argument(*TO_FLAGS, dest="until", metavar="TIME",
                        help="stop before this time (default: up to now); -e/--until/--end are aliases")
    parser.add_argument("--data-dir", "-o", "--output", dest="data_dir", default=str(DEFAULT_DATA_DIR), metavar="DIR",
                        action=KeepSpelling, help="the data folder the files go to (default ./data/kraken), the one "
                        "candlebot data list --data-dir reads; -o/--output, as every command's output, say the same")
    parser.add_argument("--import", dest="archive", type=Path, metavar="FILE.zip",
                        help="import Kraken's downloadable OHLCVT archive instead of downloading")
    parser.add_argument("--pace", type=float, default=1.0,
                        help="seconds between two calls of one pair to start with (default 1); it adapts: shorter while "
                             "Kraken answers, doubled after each rate-limit refusal")
    parser.add_argument("--no-check", action="store_true", help="do not compare with Kraken's OHLC candles")
    parser.add_argument("--kraken-url", default=None, help="Kraken REST base URL (default $CANDLEBOT_KRAKEN_URL or Kraken)")
    parser.add_argument("--kraken-timeout", type=float, default=15.0, help="per-call read timeout, seconds")
    return parser


@dataclass(frozen=True)
class Request:
    pairs: tuple[str, ...]
    period: int
    since: float
    until: float | None
    data_dir: Path
    pace: float
    check: bool


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.archive is not None:
        return _import(args)
    return download(_request(args), _public_calls(args))


def _request(args: argparse.Namespace) -> Request:
    if not args.pair:
        raise ConfigError("name at least one pair with -c (e.g. -c XBTUSD)")
    if args.period is None:
        raise ConfigError("-p MINUTES is required (the candle period to build)")
    if args.since is None:
        raise ConfigError("--from DATE is required (the first trade to fetch; the same --from again continues)")
    since = parse_time(args.since, "--from")
    if since > time.time():  # no trades yet, and the folder would start there
        raise ConfigError(_future(args.since, since))
    until = parse_time(args.until, "--to") if args.until else None
    if until is not None and until <= since:
        raise ConfigError("--from must be before --to")
    if not (math.isfinite(args.pace) and 0 <= args.pace <= 60):
        raise ConfigError(f"--pace must be within [0, 60] seconds, got {args.pace}")
    pairs = tuple(dict.fromkeys(catalog_name(p) for p in args.pair))
    return Request(pairs, period_seconds(args.period), since, until, _data_dir(args), args.pace, not args.no_check)


def _data_dir(args: argparse.Namespace) -> Path:
    """The data folder, checked writable; a refusal names the flag as typed (-o, --output or --data-dir)."""
    from candlebot.cli.folders import writable_folder

    return writable_folder(Path(args.data_dir), spelled(args.data_dir, "--data-dir"))


def _future(typed: str, since: float) -> str:
    """Why a --from in the future is refused, in words for what was typed: a date is only in the future; a number
    that is a past moment in milliseconds (13 digits, as exchanges and JavaScript write them) is said to be one."""
    number, seconds = typed.strip().replace(".", "", 1).isdigit(), since / 1000
    if number and 1e9 <= seconds <= time.time():
        return (f"--from {typed} is in the future: it looks like milliseconds; --from takes unix seconds "
                f"({seconds:.0f} is {utc_text(seconds)} UTC)")
    return f"--from {typed} is in the future{f' ({utc_text(since)} UTC)' if number else ''}: there are no trades to fetch yet"


def catalog_name(typed: str) -> str:
    """The pair's Kraken name (altname: ``btc/usd`` is XBTUSD) from the bundled catalog, the one rule a bot and
    ``candlebot fleet`` use; a pair it lacks is refused before any call or folder, with the closest names."""
    from candlebot.assembly import offline_pair

    return offline_pair(typed).altname


def _public_calls(args: argparse.Namespace) -> Callable[[], PublicCall]:
    """A factory of public calls: one Kraken client (own connection) per pair thread."""
    from candlebot.assembly import public_kraken

    return public_kraken(args.kraken_url, args.kraken_timeout)


def download(request: Request, public_calls: Callable[[], PublicCall], out: TextIO | None = None,
             err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda signum, frame: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)} \
        if threading.current_thread() is threading.main_thread() else {}
    bars: _Bars | _Lines = _Bars(request, err) if err.isatty() else _Lines(request, err)
    try:
        with ThreadPoolExecutor(max_workers=len(request.pairs), thread_name_prefix="download") as pool:
            futures = [pool.submit(_one_pair, request, pair, public_calls(), stop, bars.updater(k))
                       for k, pair in enumerate(request.pairs)]
            outcomes = [_outcome(future) for future in futures]
    finally:
        bars.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    code = 0
    for pair, outcome in zip(request.pairs, outcomes):
        if isinstance(outcome, ConfigError):
            raise outcome
        if isinstance(outcome, FatalExchangeError):
            print(f"candlebot download: {pair}: {outcome}", file=err)
            code = 2
            continue
        if isinstance(outcome, BaseException):
            print(f"candlebot download: {pair}: {outcome}; run the same command again to continue", file=err)
            code = max(code, 1)
            continue
        out.write(outcome.describe(request) + "\n")
        if outcome.check is not None and outcome.check.differences:
            code = max(code, 1)
    if stop.is_set():
        print("candlebot download: interrupted; run the same command again to continue", file=err)
        return 130
    return code


def _outcome(future: Any) -> Any:
    try:
        return future.result()
    except (ConfigError, ExchangeError) as exc:
        return exc
    except OSError as exc:  # the data directory: read-only, full, ...
        return ConfigError(f"cannot write {exc.filename or 'the data directory'}: {exc.strerror or exc}")


@dataclass(frozen=True)
class PairResult:
    fetch: PairDownload
    candles: int
    output: Path | None
    gaps: Gaps | None
    check: OhlcCheck | None
    pacer: Pacer | None = None

    def describe(self, request: Request) -> str:
        fetch, state = self.fetch, self.fetch.state
        rate = fetch.fetched / fetch.seconds if fetch.seconds > 0 else 0.0
        refused = f", {plural(self.pacer.refusals, 'rate-limit refusal')} (pace then {self.pacer.interval:.2f} s)" \
            if self.pacer is not None and self.pacer.refusals else ""
        parts = [f"{fetch.pair}: {plural(fetch.fetched, 'trade')} in {plural(fetch.calls, 'call')} ({rate:,.0f} trades/s)"
                 f"{refused}, {fetch.finish}",
                 f"{state.trades:,} stored ({utc_text(state.first)} .. {utc_text(state.last)})"]
        if self.output is not None:
            parts.append(f"{self.candles:,} candles of {period_label(request.period)} -> {self.output}")
            parts.append(self.gaps.describe_flat(request.period) if self.gaps else "every period had trades")
        if self.check is not None:
            parts.append(self.check.describe())
        return "; ".join(parts)


def _one_pair(request: Request, pair: str, public: PublicCall, stop: threading.Event,
              progress: Callable[..., None]) -> PairResult:
    store = TradeStore(request.data_dir / pair)
    pacer = Pacer(request.pace)
    public = PacedCall(public, pacer, stop)  # the pace adapts to Kraken's answers (data.download.pace)
    older = prepend_history(public, pair, store, since=request.since, pace=pacer.delay, stop=stop, progress=progress)
    if older is not None and older.finish == "interrupted":  # an earlier --since: older trades first
        return PairResult(older, 0, None, None, None, pacer)
    try:
        fetch = download_trades(public, pair, store, since=request.since, until=request.until, pace=pacer.delay,
                                stop=stop, progress=progress)
    except FatalExchangeError:  # an unknown pair: leave no folder that `data list` would call incomplete
        store.remove_if_empty()
        raise
    progress(fetch.state, finished=fetch.finish != "interrupted")
    if fetch.finish == "interrupted" or not fetch.state.trades:
        return PairResult(fetch, 0, None, None, None, pacer)
    candles = candles_from_download(store.trades_path, request.period, fetch.state.since, request.until)
    output = request.data_dir / f"{pair}_{period_label(request.period)}.csv"
    if not len(candles):
        return PairResult(fetch, 0, None, None, None, pacer)
    write_candles(output, candles)
    check = None
    minutes = request.period // 60
    if request.check and request.period % 60 == 0 and minutes in KRAKEN_INTERVALS:
        bars = parse_ohlc(public("OHLC", {"pair": pair, "interval": str(minutes)}))
        first = math.ceil(fetch.state.since / request.period) * request.period
        check = check_candles(candles, bars, first, int(candles.times[-1]) + request.period)
    return PairResult(fetch, len(candles), output, flat_candles(candles), check, pacer)


class _Bars:
    """tqdm bars on a terminal, one per pair, over the span of history to fetch (imported only then)."""

    def __init__(self, request: Request, err: TextIO) -> None:
        from tqdm import tqdm

        end = request.until or time.time()
        self.since = request.since
        self.span = max(1.0, end - request.since)
        self._bars = [tqdm(total=round(self.span), desc=pair, unit="s", unit_scale=True, file=err, position=k,
                           leave=True, bar_format="{desc} {percentage:3.0f}%|{bar}| {postfix}")
                      for k, pair in enumerate(request.pairs)]
        self._lock = threading.Lock()

    def updater(self, k: int) -> Callable[..., None]:
        def update(state: DownloadState, finished: bool = False) -> None:
            with self._lock:
                bar = self._bars[k]
                done = self.span if finished else min(self.span, (state.last or self.since) - self.since)
                bar.update(round(done) - bar.n)
                bar.set_postfix_str(f"{state.trades:,} trades, {utc_text(state.last)}")

        return update

    def close(self) -> None:
        for bar in self._bars:
            bar.close()


class _Lines:
    """Off a terminal (a pipe, a log file, cron): one progress line per pair on stderr every ``every_s`` seconds, and
    one when the pair is done, instead of silence until the summary."""

    def __init__(self, request: Request, err: TextIO, every_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.err = err
        self.since = request.since
        self.until = request.until
        self.every_s = every_s
        self.clock = clock
        self._last = [clock()] * len(request.pairs)
        self._lock = threading.Lock()

    def updater(self, k: int) -> Callable[..., None]:
        def update(state: DownloadState, finished: bool = False) -> None:
            now = self.clock()
            with self._lock:
                if not finished and now - self._last[k] < self.every_s:
                    return
                self._last[k] = now
                end = self.until or time.time()
                done = 100.0 if finished else 100.0 * min(1.0, max(0.0, ((state.last or self.since) - self.since)
                                                                   / max(1.0, end - self.since)))
                self.err.write(f"{state.pair}: {plural(state.trades, 'trade')} stored, up to {utc_text(state.last)} "
                               f"({done:.0f}%){', done' if finished else ''}\n")
                self.err.flush()

        return update

    def close(self) -> None:
        pass


def _import(args: argparse.Namespace) -> int:
    if args.since or args.until or args.period is not None:
        raise ConfigError("--import takes no -p/--from/--to: the archive's files say their own periods")
    files = import_archive(args.archive, _data_dir(args), args.pair)
    for imported in files:
        print(imported.describe())
    return 1 if any(f.bad_rows for f in files) else 0
