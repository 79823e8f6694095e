"""How a recorder subscribes, resyncs and bounds its queue, with the defaults: the one place they are written.
The recorder's ``CollectorConfig``, the assembly's ``CollectorSettings`` and the command's flags all take them
from here. Only dataclasses: a bot that imports the settings does not load the collector."""

from __future__ import annotations

from dataclasses import dataclass

DEPTHS = (10, 25, 100, 500, 1000)  # the book depths Kraken's WebSocket v2 offers


@dataclass(frozen=True, kw_only=True)
class RecorderTuning:
    depth: int = 10
    ws_url: str = "wss://ws.kraken.com/v2"
    rest_url: str = "https://api.kraken.com"
    snapshot_interval_s: float = 60.0
    max_pending: int = 50_000
    stall_timeout_s: float = 10.0
    resync_timeout_s: float = 5.0
    unsynced_alert_s: float = 60.0

    def __post_init__(self) -> None:
        if self.depth not in DEPTHS:
            raise ValueError(f"depth must be one of {DEPTHS}")
