"""How candlebot is put together: the only place that builds objects. Read this package to see the whole bot.

    settings.py   frozen, typed settings (``candlebot/cli`` makes them from flags; nothing here reads flags)
    strategy.py   the strategy by name, on read-only views of its books
    backtest.py   ``build_backtest``: the engine over loaded candles on the backtest venue
    bot.py        ``build_bot``: the engine polling a live venue, recovered from its state file
    venues.py     the venue factory (the Kraken adapter unless a test injects one) and the bot's safety policy
    collector.py  ``build_collector``: the order-book recorder
    outputs.py    ``attach_outputs``: log lines, the diary, StatsD and Slack, all on the process's event bus

Both a backtest and a bot are the same core objects around one engine loop:

    chart -> indicators -> strategy -> trader -> exchange -> ledger -> events (bus) -> outputs
             '------------------- Engine: one tick per closed candle -------------------'

This is the only core package that imports ``candlebot.strategies``, ``candlebot.exchanges`` or
``candlebot.collector`` (tests/core/test_dependencies.py checks it). The names below are re-exported so that
``from candlebot.assembly import X`` keeps working.
"""

from candlebot.assembly.backtest import Backtest, build_backtest, load_candles, load_chart, run_backtest
from candlebot.assembly.bot import DEFAULT_CASH, BotProcess, build_bot
from candlebot.assembly.outputs import SinkStarter, attach_outputs, no_sinks, sink_tags
from candlebot.assembly.settings import LOOKUP_EVERY_S, BacktestSettings, BotSettings
from candlebot.assembly.strategy import STRATEGIES, resolve_strategy
from candlebot.assembly.venues import (VenueFactory, bot_policy, key_account, kraken_venue, offline_pair, public_kraken,
                                       start_demo_market)

__all__ = [
    "DEFAULT_CASH", "LOOKUP_EVERY_S", "STRATEGIES", "Backtest", "BacktestSettings", "BotProcess", "BotSettings",
    "SinkStarter", "VenueFactory", "attach_outputs", "bot_policy", "build_backtest", "build_bot", "key_account",
    "kraken_venue", "load_candles", "load_chart", "no_sinks", "offline_pair", "public_kraken", "resolve_strategy",
    "run_backtest", "sink_tags", "start_demo_market",
]
