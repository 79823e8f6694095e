"""The order-book collector as a process (``candlebot-collector``): its settings, the recorder built from them
(store, instruments, the status board; its metrics and alerts as events on its bus, where ``attach_outputs``
puts the StatsD and Slack sinks of ``SinkConfig``) and the read-back API the ``book`` and ``export`` commands
use. The CLI (``candlebot.cli.collector``) reaches the collector only here."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, fields
from typing import Callable

from candlebot.assembly.outputs import attach_outputs
from candlebot.assembly.settings import CollectorSettings
from candlebot.collector.app import DEPTHS, CollectorConfig, collect
from candlebot.collector.read import L2Row, NoBook, book_at, l2_rows, parse_time
from candlebot.collector.tuning import RecorderTuning
from candlebot.events import EventBus, FeedAlert
from candlebot.output.sinks.config import SinkConfig
from candlebot.output.sinks.tags import SinkTags

__all__ = ["DEPTHS", "CollectorSettings", "L2Row", "NoBook", "RecorderTuning", "book_at", "build_collector", "l2_rows",
           "parse_time"]


@dataclass
class Collector:
    """A wired recorder: ``run()`` records until SIGTERM/SIGINT, flushes its outputs and returns the exit code."""

    config: CollectorConfig
    store: object
    board: object
    alert: Callable[[str], None] | None
    close_outputs: Callable[[], None]

    def run(self) -> int:
        from candlebot.collector.status import log as status_log

        try:  # the board reads the metrics pass and hands it on to the bus
            return asyncio.run(collect(self.config, self.store, statsd=self.board, alert=self.alert))  # type: ignore[arg-type]
        finally:
            status_log.info("%s", self.board.summary())  # type: ignore[attr-defined]
            self.close_outputs()


def build_collector(settings: CollectorSettings, sinks: SinkConfig) -> Collector:
    """The store opened, the pairs resolved against Kraken's AssetPairs, the status board, and the outputs on the
    process's bus (StatsD gets every metrics pass; Slack the unsynced alerts, raised only when Slack is on)."""
    from candlebot.collector.instruments import fetch_asset_pairs, resolve
    from candlebot.collector.ops import MetricsToBus
    from candlebot.collector.status import StatusBoard
    from candlebot.collector.storage import open_store
    from candlebot.output.sinks.wiring import start_sinks

    store = open_store(settings.db)
    instruments = tuple(resolve(list(settings.pairs), fetch_asset_pairs(settings.rest_url)))
    tuning = {field.name: getattr(settings, field.name) for field in fields(RecorderTuning)}
    config = CollectorConfig(name=settings.name, instruments=instruments, **tuning)
    bus = EventBus()
    on = sinks.statsd is not None or sinks.slack is not None
    tags = SinkTags(bot=settings.name, pair=None, strategy="collector", mode="collect")  # each metric tags its pair
    close = attach_outputs(bus, tags, sinks=lambda bus, tags, secrets: start_sinks(sinks, bus, tags) if on else (lambda: None))
    board = StatusBoard(pairs=[item.pair for item in instruments], inner=MetricsToBus(bus), every_s=settings.status_every_s)
    alert = (lambda text: bus.emit(FeedAlert(time.time(), text))) if sinks.slack is not None else None
    return Collector(config, store, board, alert, close)
