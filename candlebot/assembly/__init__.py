"""How candlebot is put together: the only place that builds objects. Read this package to see the whole bot.

    settings.py   frozen, typed settings (``candlebot/cli`` makes them from flags; nothing here reads flags)
    strategy.py   the strategy by name, on read-only views of its books
    backtest.py   ``build_backtest``: the engine over loaded candles on the backtest venue
    bot.py        ``build_bot``: the engine polling a live venue, recovered from its state file
    venues.py     the venue factory (the Kraken adapter unless a test injects one) and the bot's safety policy
    collector.py  ``build_collector``: the order-book recorder (its outputs on its bus too)
    simulator.py  the Kraken simulator as a process (``candlebot-kraken-sim``)
    outputs.py    ``attach_outputs``: log lines, the diary, StatsD and Slack, all on the process's event bus

Both a backtest and a bot are the same core objects around one engine loop:

    chart -> indicators -> strategy -> trader -> exchange -> ledger -> events (bus) -> outputs
             '------------------- Engine: one tick per closed candle -------------------'

This is the only core package that imports ``candlebot.strategies``, ``candlebot.exchanges`` or
``candlebot.collector`` (tests/core/test_dependencies.py checks it). The names below are re-exported so that
``from candlebot.assembly import X`` keeps working.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {  # name -> submodule: imported on first use, so that a command needing one part loads only that part
    "Backtest": "backtest", "build_backtest": "backtest", "load_candles": "backtest", "load_chart": "backtest",
    "run_backtest": "backtest", "backtest_venue": "backtest",
    "DEFAULT_CASH": "bot", "BotProcess": "bot", "build_bot": "bot", "crash_record": "bot",
    "SinkStarter": "outputs", "attach_outputs": "outputs", "no_sinks": "outputs", "sink_tags": "outputs",
    "LOOKUP_EVERY_S": "settings", "BacktestSettings": "settings", "BotSettings": "settings",
    "CollectorSettings": "settings",
    "STRATEGIES": "strategy", "resolve_strategy": "strategy",
    "VenueFactory": "venues", "bot_policy": "venues", "key_account": "venues", "check_key_file": "venues", "kraken_venue": "venues", "mode_venue": "venues", "kraken_config": "venues",
    "offline_pair": "venues", "public_kraken": "venues", "start_demo_market": "venues",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
