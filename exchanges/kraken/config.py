"""Settings of the Kraken adapter, and how CLI flags and the environment set them."""

from __future__ import annotations

import argparse
import os
import random
from dataclasses import dataclass, field
from typing import Mapping

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
    order_wait_max         the longest an order may wait for its pair's trading counter; longer: it is not
                           sent (``RateBudgetDeferred``), so that the poll loop placing it never stalls
                           (running bots: 1 s); None: it waits as long as the counter needs
    share_fill_reads       a placed order's fill is read through the key's shared ``FillBoard`` (one
                           QueryOrders for every waiting order of every process), never waiting for the
                           budget: when it cannot be read at once the order is ``OrderFillPending`` and the
                           bot's reconciler picks the fill up on a later poll (running bots)

    ``config_from_args`` (a running bot) allows one send per intent, so that no lookup
    window runs inside the poll loop: the bot's reconciler keeps looking, paced.
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
        if self.timeout <= 0 or self.connect_timeout <= 0:
            raise ConfigError("Kraken timeouts must be positive")
        if self.lookup_window < 0 or self.lookup_interval <= 0 or self.fill_timeout < 0 or self.fill_poll_interval <= 0:
            raise ConfigError("Kraken lookup/fill windows must be >= 0 and intervals > 0")
        if self.max_sends < 1:
            raise ConfigError("Kraken max_sends must be at least 1")
        if self.order_reserve < 0:
            raise ConfigError("Kraken order_reserve must be >= 0")


def add_kraken_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that configure a live Kraken exchange."""
    group = parser.add_argument_group("Kraken")
    group.add_argument("--key-file", help="krakenex key file (line 1 key, line 2 secret; chmod 600); "
                       "default: $KRAKEN_API_KEY / $KRAKEN_API_SECRET")
    group.add_argument("--kraken-url", default=None,
                       help=f"Kraken REST base URL (default ${URL_ENV} or {DEFAULT_URL})")
    group.add_argument("--kraken-tier", default="starter", choices=["starter", "intermediate", "pro", "none"],
                       help="account tier for the client-side rate counter (default starter)")
    group.add_argument("--kraken-timeout", type=float, default=10.0, help="per-call read timeout, seconds")


def config_from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> KrakenConfig:
    env = os.environ if environ is None else environ
    url = getattr(args, "kraken_url", None) or env.get(URL_ENV) or DEFAULT_URL
    # a running bot: an outcome-unknown order is never resent, and is looked up by the bot's reconciler
    # (paced within the rate budget) rather than for a minute inside the poll loop
    return KrakenConfig(url=url, tier=getattr(args, "kraken_tier", "starter"),
                        timeout=getattr(args, "kraken_timeout", 10.0), max_sends=1, share_fill_reads=True, order_wait_max=1.0)
