"""Settings of the Kraken adapter (the CLI's flags and the environment become them in ``candlebot/cli`` and
``candlebot.assembly.venues``; a running bot's safety policy is ``candlebot.assembly.venues.bot_policy``)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from candlebot.errors import ConfigError
from candlebot.exchanges.kraken.ratelimit import tier_named

DEFAULT_URL = "https://api.kraken.com"
URL_ENV = "CANDLEBOT_KRAKEN_URL"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry a call that failed temporarily.

    ``attempts`` counts every try of one call. Delays grow as
    ``base_delay * 2**n`` up to ``max_delay``, each multiplied by a random
    factor in [0.5, 1] (jitter, so that bots sharing a key do not retry in
    step). ``rate_limit_delay`` is the first pause after a rate-limit refusal
    when no client-side tier is configured.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    rate_limit_delay: float = 3.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ConfigError("retry policy: attempts >= 1 and 0 <= base_delay <= max_delay")

    def delay(self, retry: int, rng: random.Random, base: float | None = None) -> float:
        first = self.base_delay if base is None else base
        return min(self.max_delay, first * 2**retry) * rng.uniform(0.5, 1.0)


@dataclass(frozen=True, slots=True)
class KrakenConfig:
    """How the adapter talks to Kraken.

    url                    base URL (``--kraken-url``, ``$CANDLEBOT_KRAKEN_URL``)
    timeout                read timeout of every call, seconds
    connect_timeout        connect timeout of every call, seconds
    tier                   client-side rate counter: starter, intermediate, pro or none
    retry                  retries of reads and of calls refused before processing
    lookup_window          after an outcome-unknown AddOrder, how long to keep looking the order up
    lookup_interval        pause between those lookups
    check_trades_history   also scan the latest own trades before deciding an order is absent
    max_sends              how many times one intent may be sent (resent only when proven absent)
    fill_timeout           how long to wait for a placed market order to close
    fill_poll_interval     first pause between QueryOrders polls while waiting (doubles, capped at 2 s)
    pairs_ttl              how long the AssetPairs table is cached, seconds
    order_reserve          REST-counter units that deferrable reads (lookups by userref, balance refreshes)
                           leave free for the reads of placed orders' fills (AddOrder itself is not on the
                           REST counter) and for calls that wait (audits)
    order_wait_max         the longest an order (or a cancel) may wait for its pair's trading counter, each send:
                           a retry after ``EOrder:Rate limit exceeded`` waits for its own place too; longer: it is
                           not sent (``RateBudgetDeferred``; nothing placed), so that the poll loop placing it never
                           stalls (running bots: 1 s); None: it waits as long as the counter needs
    share_fill_reads       a placed order's fill is read through the key's shared ``FillBoard`` (one
                           QueryOrders for every waiting order of every process), never waiting for the
                           budget: when it cannot be read at once the order is ``OrderFillPending`` and the
                           bot's reconciler picks the fill up on a later poll (running bots)

    A running bot gets one send per intent whatever its settings say (``assembly.venues.bot_policy``), so that
    no lookup window runs inside the poll loop: the bot's reconciler keeps looking, paced.
    """

    url: str = DEFAULT_URL
    timeout: float = 10.0
    connect_timeout: float = 5.0
    tier: str = "starter"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lookup_window: float = 60.0
    lookup_interval: float = 3.0
    check_trades_history: bool = True
    max_sends: int = 3
    fill_timeout: float = 30.0
    fill_poll_interval: float = 0.25
    pairs_ttl: float = 3600.0
    order_reserve: float = 4.0
    share_fill_reads: bool = False
    order_wait_max: float | None = None

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"--kraken-url must start with http:// or https://, got {self.url!r}")
        tier_named(self.tier)
        if not (0 < self.timeout < math.inf):  # nan too
            raise ConfigError(f"--kraken-timeout must be a positive number of seconds, got {self.timeout:g}")
        if not (0 < self.connect_timeout < math.inf):
            raise ConfigError(f"Kraken's connect timeout must be a positive number of seconds, got {self.connect_timeout:g}")
        if self.lookup_window < 0 or self.lookup_interval <= 0 or self.fill_timeout < 0 or self.fill_poll_interval <= 0:
            raise ConfigError("Kraken lookup/fill windows must be >= 0 and intervals > 0")
        if self.max_sends < 1:
            raise ConfigError("Kraken max_sends must be at least 1")
        if self.order_reserve < 0:
            raise ConfigError("Kraken order_reserve must be >= 0")
