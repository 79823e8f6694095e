"""``candlebot --data FILE``: flags to ``BacktestSettings``, the backtest ``candlebot.assembly`` builds, its output."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from candlebot.assembly import (Backtest, BacktestSettings, attach_outputs, build_backtest, load_candles, offline_pair,
                                resolve_strategy, sink_tags)
from candlebot.chart import Chart, period_seconds
from candlebot.cli import pipes
from candlebot.cli.stopping import stopped
from candlebot.cli.args import check_exchange, parse_amount, parse_fee, parse_fraction, parse_range
from candlebot.cli.report_output import check_report_paths, report_data, write_reports
from candlebot.cli.sinks import build_sinks
from candlebot.data.candlecache import CandleCache
from candlebot.errors import ConfigError, StrategyError
from candlebot.events import EventBus
from candlebot.output import progress
from candlebot.output.logsink import ClockFormatter
from candlebot.output.report import RunReport, write_trades_csv
from candlebot.pair import PairInfo
from candlebot.strategy.params import parse_params


DOWNLOADED = re.compile(r"([A-Z0-9]+)_\d+[smhd]\.csv(\.gz)?")  # candlebot download's PAIR_PERIOD.csv (XBTUSD_5m.csv)


def _check_downloaded_pair(data: str | None, pair: PairInfo) -> None:
    """A downloaded file says its pair in its name: backtested as another pair (-c left at its XBTUSD default), its
    prices would be rounded to that pair's tick and sized with its fee and order minimum, silently."""
    match = DOWNLOADED.fullmatch(Path(data).name) if data else None
    if match is None:
        return
    try:
        named = offline_pair(match.group(1))
    except ConfigError:
        return  # a name of the user's own, not a pair
    if named.name != pair.name:
        raise ConfigError(f"{Path(data).name} holds {named.altname} candles (candlebot download named it), but the "
                          f"backtest would trade them as {pair.altname}: pass -c {named.altname}")


def named_pair(data: str | None, pair: PairInfo) -> str | None:
    """One warning line when a candle file's name starts with another pair than the one it is traded as
    (``btcusdt_1m_….csv.gz`` without -c is traded with XBTUSD's tick, fee and order minimum). Only a warning: a name
    is the user's, and nothing else in a CSV says whose prices it holds (a file ``candlebot download`` named is
    refused instead, above)."""
    if not data or data == "demo" or DOWNLOADED.fullmatch(Path(data).name):
        return None
    token = re.split(r"[_\-. ]", Path(data).name, maxsplit=1)[0]
    try:
        named = offline_pair(token)
    except ConfigError:
        return None  # not a pair's name
    if named.name == pair.name:
        return None
    return (f"warning: {Path(data).name} is named like {named.altname} candles, but they are traded as {pair.altname} "
            f"(its tick, fee and order minimum): pass -c {named.altname} if they are {named.altname}'s")


def settings_from_args(args: argparse.Namespace) -> BacktestSettings:
    if args.mode is not None:
        raise ConfigError(f"--{args.mode} is for running bots; a backtest (--data) always simulates its fills")
    check_exchange(args.exchange)
    if args.period is not None:
        period_seconds(args.period)
    strategy = resolve_strategy(args.strategy, args.strategy_path)
    params = parse_params(strategy.Params, args.param, strategy.name)
    pair = offline_pair(args.pair)
    _check_downloaded_pair(args.data, pair)
    start, end = parse_range(args.start, args.end)
    cash = parse_amount(args.cash or "10000", "--cash")
    stake = parse_amount(args.stake, "--stake") if args.stake is not None else None
    if stake is not None and stake > cash:
        raise ConfigError(f"--stake {stake} is more than --cash {cash}: every buy would be skipped")
    return BacktestSettings(
        data=args.data,
        pair=pair,
        period_minutes=args.period,
        start=start,
        end=end,
        strategy=strategy,
        params=params,
        fee_rate=parse_fee(args.fee) if args.fee is not None else pair.taker_fee,
        cash=cash,
        stake=stake,
        slippage_bps=parse_amount(args.slippage_bps, "--slippage-bps", allow_zero=True),
        cache=None if args.no_cache else (CandleCache(Path(args.cache_dir)) if args.cache_dir else CandleCache()),
        max_slippage=parse_fraction(args.max_slippage, "--max-slippage"),
        spread=parse_fraction(args.spread, "--spread"),
        keep_gaps=args.keep_gaps,
    )


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None, *, prog: str = "candlebot") -> int:
    """``prog``: the command as typed, which the line of a run that stops names."""
    out, err = out or sys.stdout, err or sys.stderr  # the streams of the call, not of the import
    settings = settings_from_args(args)
    if settings.cache is not None:  # a first run's cache is written while it runs (this process forks no workers)
        settings = replace(settings, cache=replace(settings.cache, write_behind=True))
    check_report_paths(args.report, args.report_png)
    loaded = load_candles(settings)
    chart = loaded.chart
    for warning in (named_pair(settings.data, settings.pair), before_first_candle(settings.start, chart, settings.data),
                    loaded.past_end(settings.end, settings.data)):
        if warning:
            err.write(warning + "\n")
    verbose = args.verbose and not (args.quiet or args.json)
    log = logging.getLogger(f"candlebot.backtest.{id(settings)}")
    log.propagate = False
    log.setLevel(logging.INFO if verbose else logging.WARNING)
    bus = EventBus()
    try:
        backtest = build_backtest(settings, chart, bus)
    except StrategyError as exc:  # the strategy's setup failed: its author's mistake, one line naming file:line
        raise ConfigError(str(exc)) from None
    handler = pipes.StreamHandler(out if verbose else err)
    handler.setFormatter(ClockFormatter(backtest.engine.clock))
    log.addHandler(handler)
    close_sinks = attach_outputs(bus, sink_tags("backtest", settings.pair, settings.strategy, "backtest"), log=log,
                                 candles=verbose, sinks=lambda bus, tags, secrets: build_sinks(args, bus, tags))
    try:
        candles = len(chart) - backtest.start_index
        try:
            if progress.wanted(err, candles) and not verbose:
                with progress.progress_bar(err, candles, "backtest", "candles") as advance:
                    report = backtest.run(lambda done: advance(done - backtest.start_index))
            else:
                report = backtest.run()
        except BrokenPipeError:
            raise  # the reader went away (`| head`): not a failure
        except Exception as exc:  # the engine skips what the strategy's code raises: whatever escapes it is a bug
            return stopped(exc, log, err, expected=(), prog=prog)
        ready = backtest.engine.ready_index()
        if ready is None or ready >= len(chart):
            log.warning("the strategy never traded: its indicators and lookback need more than the %d candles the "
                        "data holds", len(chart))
        if args.trades_csv:
            _write_trades(args.trades_csv, backtest, report)
        if args.report or args.report_png:
            write_reports(args.report, args.report_png, report_data(backtest, report), err)
        if args.json:
            out.write(json.dumps({**report.to_json(), **loaded.to_json(), "spread": float(settings.spread)}) + "\n")
        else:
            rows = loaded.summary_rows(chart.period)
            if settings.spread:
                rows.append(("spread", f"{float(settings.spread) * 100:g}% (every fill paid half of it)"))
            out.write(_with_convention(report.summary(), rows) + "\n")
    finally:
        close_sinks()
        log.removeHandler(handler)
    return 0


def before_first_candle(start: float | None, chart: Chart, data: str) -> str | None:
    """One warning line when ``--from`` lies before the data's first candle (the mirror of ``--to`` past its last):
    the run starts at that candle, and nothing is made up before it."""
    if start is None or not len(chart) or start >= chart.times[0]:
        return None
    name = "the demo series" if data == "demo" else Path(data).name
    return (f"warning: --from {_utc(start)} is before the first candle of {name} (which starts "
            f"{_utc(chart.times[0])}): the backtest starts there")


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _with_convention(summary: str, rows: list[tuple[str, str]]) -> str:
    """The summary with the candle convention's rows after its ``candles`` row, aligned like the others.

    A row is ``name`` right-aligned to the summary's width, two spaces, the value; a name has no two spaces in a
    row. A continuation row (the monthly block's next year) has no name and starts past the width: the narrowest
    end of a row's first field is the width."""
    lines = summary.split("\n")
    width = min(line.index("  ", len(line) - len(line.lstrip())) for line in lines if "  " in line.lstrip())
    at = next((k + 1 for k, line in enumerate(lines) if line.split()[:1] == ["candles"]), len(lines))
    lines[at:at] = [f"{name:>{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def _write_trades(path: str, backtest: Backtest, report: RunReport) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            write_trades_csv(backtest.ledger.trades, handle, report.reasons, report.curve.end_time)
    except OSError as exc:
        raise ConfigError(f"--trades-csv: cannot write {path}: {exc.strerror or exc}") from None

