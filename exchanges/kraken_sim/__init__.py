"""A local Kraken: an HTTP server on loopback that speaks Kraken's REST API closely enough that a plain
``krakenex.API`` pointed at it (``api.uri = sim.url``) cannot tell the difference.

It serves the bundled AssetPairs snapshot, market data for one pair from a
seeded random walk or a replay of recorded candles, signed private calls with
Kraken's nonce and rate-counter rules, a matching book for market and limit
orders with the exchange's decimal arithmetic, and fault injection (latency,
5xx, EService errors before or after processing, lost and malformed replies,
late-listed orders, partial and slow market fills) switchable at run time.

Modules, one concept each: ``config`` (SimConfig), ``timeline`` (simulator
time), ``market`` (price path, generated), ``replay`` (price path, recorded),
``book`` (depth), ``units`` (ticks, lots, strings), ``catalog`` (pairs),
``params`` (request arguments), ``public``/``private`` (endpoints),
``accounts``/``orders`` (balances, orders, matching), ``auth`` (signature,
nonce), ``ratelimit``, ``faults``, ``errors`` (Kraken's strings), ``methods``,
``counters``, ``venue`` (the lock and the gates), ``server`` (HTTP, admin),
``simulator`` (Python API), ``cli``; the WebSocket v2 ``book`` feed: ``wsbook``
(books and update messages), ``wsserver`` (the endpoint), ``wsfaults``, ``wsadmin``
(REST Depth and admin faults of the served pairs).
"""

from candlebot.exchanges.kraken_sim.config import SimConfig
from candlebot.exchanges.kraken_sim.faults import (
    BadTicker,
    DropReply,
    Fault,
    Faults,
    HttpError,
    LateListing,
    Latency,
    Malformed,
    ServiceError,
    SlowFill,
    ThinBook,
)
from candlebot.exchanges.kraken_sim.simulator import KrakenSimulator

__all__ = ["KrakenSimulator", "SimConfig", "Faults", "Fault", "Latency", "HttpError", "ServiceError", "DropReply",
           "Malformed", "LateListing", "ThinBook", "SlowFill", "BadTicker"]
