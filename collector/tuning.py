"""How a recorder subscribes, resyncs and bounds its queue, with the defaults: the one place they are written.
The recorder's ``CollectorConfig``, the assembly's ``CollectorSettings`` and the command's flags all take them
from here. Only dataclasses: a bot that imports the settings does not load the collector."""

from __future__ import annotations

from dataclasses import dataclass

DEPTHS = (10, 25, 100, 500, 1000)  # the book depths Kraken's WebSocket v2 offers

# Reconnecting a lost WebSocket. Every second of waiting after Kraken is back is a second without a verified book,
# so the jittered wait is capped at a few seconds (it was 30 s: a 25.6 s wait after 5 s of refused connections).
# What bounds the attempts instead is Kraken's one connection rule: Cloudflare bans an IP for 10 minutes after
# about 150 (re)connection attempts in a rolling 10 minutes. A wait of at most 5 s alone could exceed that in a long
# outage (about 240 attempts per connection), so all connections of a collector share a budget below it.
RECONNECT_BASE_S = 0.5
RECONNECT_CAP_S = 5.0
CONNECT_ATTEMPTS = 100         # per CONNECT_WINDOW_S, all connections of the process together (Kraken: ~150)
CONNECT_WINDOW_S = 600.0


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
