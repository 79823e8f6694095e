"""A running bot's flags, checked without side effects: the one check ``candlebot run`` and ``candlebot fleet`` share.

The bot calls ``check_bot_flags`` before it reaches Kraken, then does what has effects (its state folder, its
sinks, the network); ``candlebot fleet`` calls the same function on every bot's command line, so a flag the bot
would refuse at start (exit 2, not restarted by supervisor) is refused while the config is written, in the bot's
own words. Nothing here creates a folder, starts a sink or calls the network.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

from candlebot.assembly import resolve_strategy
from candlebot.chart import period_seconds
from candlebot.assembly.venues import KrakenConfig
from candlebot.cli.args import check_exchange, check_seconds, parse_amount, parse_fee, parse_fraction, venue_config
from candlebot.cli.sinks import check_sinks
from candlebot.errors import ConfigError
from candlebot.identity import BotIdentity
from candlebot.pair import PairInfo
from candlebot.strategy import BotStrategy, StrategyParams
from candlebot.strategy.params import parse_params

# flags a bot refuses, by their namespace name, as --help spells them
_BACKTEST_ONLY = {"start": "--from", "end": "--to", "trades_csv": "--trades-csv", "json": "--json", "report": "--report",
                  "report_png": "--report-png"}


@dataclass(frozen=True)
class BotFlags:
    """What the flags say, parsed: the parts of ``BotSettings`` that need no folder, sink or network."""

    period: int  # seconds
    strategy: type[BotStrategy]
    params: StrategyParams
    identity: BotIdentity
    fee: Decimal | None
    cash: Decimal | None
    stake: Decimal | None
    max_slippage: Decimal
    max_deviation: Decimal
    venue: KrakenConfig


def check_bot_flags(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> BotFlags:
    """The bot's flags, or a ConfigError of one line naming the flag. ``environ``: the environment the bot will
    run in, for the sink checks (None: this process's)."""
    check_exchange(args.exchange)
    check_seconds(args.poll, "-t", maximum=86_400)
    check_seconds(args.stop_after, "--stop-after", maximum=10 * 365 * 86_400)
    check_seconds(args.reconcile_window, "--reconcile-window", maximum=86_400, allow_zero=True)
    check_seconds(args.audit_interval, "--audit-interval", maximum=7 * 86_400)
    check_seconds(args.crash_window, "--crash-window", maximum=7 * 86_400)
    if not 0 <= args.crash_limit <= 1000:
        raise ConfigError(f"--crash-limit must be a whole number within [0, 1000] (0: no limit), got {args.crash_limit}")
    for name, flag in _BACKTEST_ONLY.items():
        if getattr(args, name):
            raise ConfigError(f"{flag} is for backtests (with --data)")
    cash, stake = (parse_amount(getattr(args, flag), f"--{flag}") if getattr(args, flag) is not None else None
                   for flag in ("cash", "stake"))
    period = period_seconds(args.period if args.period is not None else 5)
    fee = parse_fee(args.fee) if args.fee is not None else None
    max_slippage = parse_fraction(args.max_slippage, "--max-slippage")
    max_deviation = parse_fraction(args.max_price_deviation, "--max-price-deviation", allow_zero=False)
    strategy = resolve_strategy(args.strategy, args.strategy_path)
    params = parse_params(strategy.Params, args.param, strategy.name)
    identity = BotIdentity.from_name(args.name)
    known_pair(args.pair)  # before any network call: paper, validate and live alike
    venue = venue_config(args, environ)  # --kraken-url, --kraken-tier, --kraken-timeout
    check_sinks(args, statsd_default=True, slack_default=True, env=environ)  # a bad port or URL fails before Kraken
    return BotFlags(period=period, strategy=strategy, params=params, identity=identity, fee=fee, cash=cash,
                    stake=stake, max_slippage=max_slippage, max_deviation=max_deviation, venue=venue)


def known_pair(name: str) -> PairInfo:
    """A pair of Kraken's catalog (the bundled AssetPairs), decided before any network call: a typo would otherwise
    restart a bot forever, or retry an unreachable Kraken until stopped. The simulator serves this catalog itself, so
    no --kraken-url lists more; a pair Kraken lists after the catalog was recorded needs a newer catalog
    (tools/compact_asset_pairs.py)."""
    from candlebot.assembly import offline_pair

    return offline_pair(name)
