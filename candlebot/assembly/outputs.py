"""Where a process's events go: one ``attach_outputs`` that a bot, a backtest and the collector all use. Every
output listens on the process's event bus (log lines, the bot's diary, StatsD, Slack); none is called directly."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, Sequence

from candlebot.events import EventBus
from candlebot.output.logsink import LogSink
from candlebot.output.sinks.tags import SinkTags
from candlebot.pair import PairInfo
from candlebot.strategy.base import BotStrategy

if TYPE_CHECKING:
    from candlebot.output.sinks.queued import QueuedSink

SinkStarter = Callable[[EventBus, SinkTags, Sequence[str]], Callable[[], None]]
"""Subscribes the process's sinks (StatsD, Slack) to a bus, masking the given secrets; returns their closer."""


def no_sinks(bus: EventBus, tags: SinkTags, secrets: Sequence[str]) -> Callable[[], None]:
    """No StatsD, no Slack: the log file and the state file only."""
    return lambda: None


def sink_tags(bot: str, pair: PairInfo, strategy: type[BotStrategy], mode: str) -> SinkTags:
    """What every metric and alert of a bot (or a backtest) is tagged with."""
    return SinkTags(bot=bot, pair=pair.altname, strategy=strategy.name, mode=mode,
                    quote=pair.wsname.rpartition("/")[2] or pair.quote)


def attach_outputs(bus: EventBus, tags: SinkTags, *, log: logging.Logger | None = None, candles: bool = False,
                   diary: QueuedSink | None = None, sinks: SinkStarter = no_sinks,
                   secrets: Sequence[str] = ()) -> Callable[[], None]:
    """Subscribe the outputs to ``bus``: log lines to ``log`` (each candle too with ``candles``), the bot's diary
    (written by its own worker thread: never on the order path), the sinks; returns one closer that flushes them
    (sinks first, within their ~4 s, then the diary's queue)."""
    closers: list[Callable[[], None]] = []
    if log is not None:
        LogSink(log, candles=candles).attach(bus)
    if diary is not None:
        from candlebot.live.diary import EVENT_TYPES as DIARY_EVENTS

        bus.subscribe(diary, *DIARY_EVENTS)
        closers.append(lambda: diary.close(1.0))
    closers.append(sinks(bus, tags, secrets))

    def close() -> None:
        failed: list[Exception] = []
        for closer in reversed(closers):
            try:
                closer()
            except Exception as exc:  # the others still flush; the caller logs the first
                failed.append(exc)
        if failed:
            raise failed[0]

    return close
