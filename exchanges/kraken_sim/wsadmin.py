"""Where the HTTP front meets the WebSocket endpoint: REST Depth of served pairs, and the ``ws_*`` faults."""

from __future__ import annotations

from typing import Any, Mapping

from candlebot.exchanges.kraken_sim.catalog import result_key
from candlebot.exchanges.kraken_sim.errors import KrakenError
from candlebot.exchanges.kraken_sim.params import integer, text
from candlebot.exchanges.kraken_sim.venue import Venue
from candlebot.exchanges.kraken_sim.wsfaults import WS_KINDS, ws_fault


def ws_depth(feed: Any, venue: Venue, method: str, params: Any) -> dict[str, Any] | None:
    """Depth of a pair the WebSocket serves: its last published book (None: not such a call)."""
    if feed is None or method != "Depth":
        return None
    name = text(params, "pair")
    if not name:
        return None
    try:
        pair_id = venue.catalog.pair_id(name)
    except KrakenError:
        return None
    count = integer(params, "count", default=100, low=1, high=500)
    reply = feed.depth(pair_id, count)
    return None if reply is None else {result_key(name, pair_id): book for book in reply.values()}


def configure_ws_faults(feed: Any, data: Any) -> Any:
    """Takes the ``ws_*`` kinds out of an admin faults object (setting them), returns the rest."""
    if feed is None or not isinstance(data, Mapping):
        return data
    ws = {kind: ws_fault(kind, spec) for kind, spec in data.items() if kind in WS_KINDS and spec is not None}
    feed.faults.configure(ws)
    return {kind: spec for kind, spec in data.items() if kind not in WS_KINDS}


def ws_faults_state(feed: Any) -> dict[str, Any]:
    return {} if feed is None else {"ws_faults": feed.faults.describe(), "ws": feed.describe()}
