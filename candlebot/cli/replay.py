"""``candlebot replay --name BOT [--state-dir DIR] [--strategy NAME] [--param k=v ...]``: the bot's own candles
backtested, every decision side by side with the bot's.

The backtest runs on the candles the bot recorded (its warm-up and every period after), with the strategy,
parameters, fee, stake and protection the bot recorded, from the candle it started on. ``--strategy`` and
``--param`` override what was recorded (a what-if). It prints each decision: candle, side, the bot's price
against the backtest's, the price difference per unit (+: worse for the bot) and the volume difference apart
(one number mixing both read -0.02319 for a dearer buy and +0.05490 for one at the same price), and for a
divergence its cause (refused by the exchange with its reason, unfilled, partial, price guard, audit hold,
outage, strategy error, different candle; no position: a sell after a buy that side did not make); then what the bot's fills paid against the
candle's open, as the ``--spread`` to give backtests; ``-o FILE.html`` draws both on one chart. Exit 0 when every decision agrees, 1 when any
diverges, 2 on bad input.
"""

from __future__ import annotations

import argparse
import bisect
import sys
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from candlebot.cli.report_output import check_report_paths, write_reports
from candlebot.assembly import BacktestSettings, build_backtest, offline_pair, resolve_strategy
from candlebot.data.botreplay import BotRecord, Comparison, after_the_record, compare, paid, read_record, suggested_spread, utc_seconds
from candlebot.errors import ConfigError
from candlebot.events import EventBus
from candlebot.identity import BotIdentity
from candlebot.live.paths import default_state_dir
from candlebot.output.botstatus import open_bot
from candlebot.output.lines import plural
from candlebot.strategy.params import parse_params


def build_parser() -> argparse.ArgumentParser:
    from candlebot.cli.args import ArgumentParser
    from candlebot.cli.helptext import description

    parser = ArgumentParser(prog="candlebot replay", description=description(__doc__))
    parser.add_argument("--name", required=True, help="the bot's name (its --name)")
    parser.add_argument("--state-dir", help="the bot's state directory (default: the bots' default)")
    parser.add_argument("--strategy", help="replay with this strategy instead of the recorded one")
    parser.add_argument("--strategy-path", action="append", default=[], help="also look for strategies here")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override a recorded strategy parameter (repeatable)")
    parser.add_argument("-o", "--output", "--report", dest="report", metavar="FILE.html",
                        help="also draw both on one chart: the bot's report with the backtest's positions as a line "
                        "(its entry price while a trade is open) and every verdict in the decisions table; "
                        "--report is the older spelling")
    return parser


def main(argv: list[str], out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    identity = BotIdentity.from_name(args.name)
    if args.report:
        check_report_paths(args.report, None)
    path = (Path(args.state_dir) if args.state_dir else default_state_dir()) / "bots" / f"{identity.label}.sqlite"
    if not path.exists():
        raise ConfigError(f"no bot named {args.name} in {path.parent} (no {path.name})")
    store = open_bot(path)
    try:
        record = read_record(store, identity.name)
    finally:
        store.close()
    strategy = resolve_strategy(args.strategy or _recorded_strategy(record, args.strategy_path), args.strategy_path)
    recorded = record.params if args.strategy is None else ()
    params = parse_params(strategy.Params, [*recorded, *args.param], strategy.name)
    pair = offline_pair(record.pair)
    settings = BacktestSettings(data=f"bot {record.name}", pair=pair, strategy=strategy, params=params,
                                fee_rate=record.fee_rate if record.fee_rate is not None else pair.taker_fee,
                                cash=record.start_cash, stake=record.stake,
                                max_slippage=record.max_slippage if record.max_slippage is not None else Decimal("0.005"),
                                start=float(int(record.first_start) // record.period * record.period))
    chart = record.chart
    if bisect.bisect_left(chart.times, settings.start or 0) >= len(chart):
        raise ConfigError(f"bot {record.name} has no closed candle since it started: nothing to replay yet")
    backtest = build_backtest(settings, chart, EventBus())
    backtest.run()
    fills = [f for t in backtest.ledger.trades for f in (t.open_fill, t.close_fill) if f is not None]
    comparisons = compare(record, fills)
    _print(out, record.name, record.mode, strategy.name, comparisons)
    if later := after_the_record(record):
        out.write(f"{later} order(s) in the candle still forming when the record ends: not compared\n")
    if args.report:
        _write_report(args.report, path, identity.name, backtest.ledger.trades, comparisons)
    costs = paid(comparisons, dict(zip(chart.times, chart.opens)))
    if costs is not None:
        out.write(f"the bot's fills paid {costs[0] * 100:+.4f}% against the candle's open on average (median "
                  f"{costs[1] * 100:+.4f}%): backtest with --spread {suggested_spread(costs[0])} to charge the same\n")
    return 0 if all(c.agrees for c in comparisons) else 1


def _write_report(html: str, path: Path, name: str, trades: list, comparisons: list[Comparison]) -> None:
    """The bot's report (``candlebot report``) with the backtest drawn in and the verdicts listed."""
    import dataclasses

    import numpy as np

    from candlebot.output.botreport import bot_report_data
    from candlebot.output.report_data import Decision, IndicatorLine

    store = open_bot(path)
    try:
        data = bot_report_data(store, name)
    finally:
        store.close()
    entry = np.full(len(data.times), np.nan)
    for trade in trades:
        first = int(np.searchsorted(data.times, trade.open_fill.time))
        last = len(data.times) if trade.close_fill is None else int(np.searchsorted(data.times, trade.close_fill.time))
        entry[first:last] = float(trade.entry_price)
    verdicts = tuple(Decision(float(c.candle), "replay", c.side, None, f"backtest {_price(c.backtest)}",
                              f"bot {_price(c.bot)}: " + ("agrees" if c.agrees else f"DIVERGES: {c.cause}"))
                     for c in comparisons)
    data = dataclasses.replace(data, title=f"replay: {data.title}",
                               lines=(*data.lines, IndicatorLine("backtest entry price", entry)),
                               decisions=tuple(sorted((*data.decisions, *verdicts), key=lambda d: d.time)))
    write_reports(html, None, data, sys.stderr)


def _recorded_strategy(record: BotRecord, search_path: list[str]) -> str:
    """The module:Class the bot ran, when it still imports; else its name."""
    if record.strategy_spec:
        try:
            resolve_strategy(record.strategy_spec, search_path)
            return record.strategy_spec
        except ConfigError:
            pass
    return record.strategy


def _print(out: TextIO, name: str, mode: str, strategy: str, comparisons: list[Comparison]) -> None:
    out.write(f"replay of bot {name} ({mode}, {strategy}): {plural(len(comparisons), 'decision')}\n")
    out.write(f"{'candle (UTC)':<19}  {'side':<4}  {'bot':>14}  {'backtest':>14}  {'price diff':>11}  {'volume diff':>12}  "
              "verdict\n")
    for c in comparisons:
        price, volume = c.price_difference, c.volume_difference
        out.write(f"{utc_seconds(c.candle):<19}  {c.side:<4}  {_price(c.bot):>14}  {_price(c.backtest):>14}  "
                  f"{_signed(price):>11}  {_signed(volume):>12}  {'agrees' if c.agrees else f'DIVERGES: {c.cause}'}\n")
    out.write("price diff: per unit, what the bot paid more on a buy or got less on a sell than the backtest (+ is worse "
              "for the bot); volume diff: the bot's volume less the backtest's\n")
    agreeing = sum(1 for c in comparisons if c.agrees)
    out.write(f"{agreeing} of {len(comparisons)} decisions agree\n")


def _signed(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():+f}" if value else "0"


def _price(side: object) -> str:
    return "-" if side is None else f"{side.price:f}"  # type: ignore[attr-defined]
