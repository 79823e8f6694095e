"""The order-book collector as a process (``candlebot-collector``): its settings, the recorder built from them
(store, instruments, StatsD and Slack through ``SinkConfig``, the status board) and the read-back API the
``book`` and ``export`` commands use. The CLI (``candlebot.cli.collector``) reaches the collector only here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Sequence

from candlebot.collector.app import DEPTHS, CollectorConfig, collect
from candlebot.collector.read import L2Row, NoBook, book_at, l2_rows, parse_time
from candlebot.output.sinks.config import SinkConfig

__all__ = ["DEPTHS", "CollectorSettings", "L2Row", "NoBook", "book_at", "build_collector", "l2_rows", "parse_time"]


@dataclass(frozen=True)
class CollectorSettings:
    """A recorder, checked by the CLI: what to record and where, how it reports."""

    name: str
    pairs: tuple[str, ...]  # as the bots name them
    db: str
    depth: int = 10
    ws_url: str = "wss://ws.kraken.com/v2"
    rest_url: str = "https://api.kraken.com"
    snapshot_interval_s: float = 60.0
    max_pending: int = 50_000
    stall_timeout_s: float = 10.0
    resync_timeout_s: float = 5.0
    unsynced_alert_s: float = 60.0
    status_every_s: float = 10.0


@dataclass
class Collector:
    """A wired recorder: ``run()`` records until SIGTERM/SIGINT and returns the exit code."""

    config: CollectorConfig
    store: object
    statsd: object
    slack: object | None
    board: object

    def run(self) -> int:
        from candlebot.collector.status import log as status_log

        try:  # the board reads the metrics pass (and forwards it to StatsD when metrics are on)
            return asyncio.run(collect(self.config, self.store, statsd=self.board, slack=self.slack))  # type: ignore[arg-type]
        finally:
            status_log.info("%s", self.board.summary())  # type: ignore[attr-defined]


def build_collector(settings: CollectorSettings, sinks: SinkConfig) -> Collector:
    """The store opened, the pairs resolved against Kraken's AssetPairs, the sinks and the status board."""
    from candlebot.collector.instruments import fetch_asset_pairs, resolve
    from candlebot.collector.status import StatusBoard
    from candlebot.collector.storage import open_store

    store = open_store(settings.db)
    instruments = tuple(resolve(list(settings.pairs), fetch_asset_pairs(settings.rest_url)))
    config = CollectorConfig(name=settings.name, instruments=instruments, depth=settings.depth, ws_url=settings.ws_url,
                             rest_url=settings.rest_url, snapshot_interval_s=settings.snapshot_interval_s,
                             max_pending=settings.max_pending, stall_timeout_s=settings.stall_timeout_s,
                             resync_timeout_s=settings.resync_timeout_s, unsynced_alert_s=settings.unsynced_alert_s)
    statsd = None
    if sinks.statsd is not None:
        from candlebot.output.sinks.statsd import statsd_client

        statsd = statsd_client(sinks.statsd, _tags(settings.name))
    slack = sinks.slack.poster(sinks.redact) if sinks.slack is not None else None
    board = StatusBoard(pairs=[item.pair for item in instruments], inner=statsd, every_s=settings.status_every_s)
    return Collector(config, store, statsd, slack, board)


def _tags(name: str) -> Sequence[str]:
    """The bots' tag convention: one Datadog template (``$bot``, ``$pair``) filters both."""
    return [f"bot:{name}", "strategy:collector", "mode:collect"]
