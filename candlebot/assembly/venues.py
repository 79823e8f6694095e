"""Where a bot trades: the venue factory ``build_bot`` calls (the Kraken adapter by default; the simulator's URL
or an in-memory exchange in tests), the safety policy every running bot's adapter gets, and the other ways
commands reach Kraken (offline pair metadata, public calls, the demo market, the key's account)."""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from candlebot.clock import Clock, LiveClock
from candlebot.errors import ConfigError
from candlebot.exchanges.kraken.config import DEFAULT_URL, URL_ENV, KrakenConfig
from candlebot.exchanges.kraken_pairs import catalog_pair
from candlebot.pair import PairInfo
from candlebot.venue import Exchange

if TYPE_CHECKING:
    import random
    from decimal import Decimal

    from candlebot.exchanges.kraken import KrakenCredentials, KrakenExchange
    from candlebot.exchanges.live import LiveExchange
    from candlebot.exchanges.paper import PaperExchange

VenueFactory = Callable[[KrakenConfig, "KrakenCredentials | None", Path], Exchange]
"""Makes the adapter a bot trades through (``config``, the key or None on paper, the state dir). Called once for
the bot and once for a live bot's audit (its own connection). What it returns is used as a ``venue.Exchange``;
``account_fees``, ``validate_market_order`` and ``close`` are used when it has them (the Kraken adapter does)."""


def kraken_config(url: str | None = None, tier: str = "starter", timeout: float = 10.0,
                  environ: Mapping[str, str] | None = None) -> KrakenConfig:
    """Where Kraken is (``url``, else ``$CANDLEBOT_KRAKEN_URL``, else Kraken) and how fast the key may call it."""
    env = os.environ if environ is None else environ
    return KrakenConfig(url=url or env.get(URL_ENV) or DEFAULT_URL, tier=tier, timeout=timeout)


def kraken_venue(config: KrakenConfig | None = None, credentials: KrakenCredentials | None = None,
                 state_dir: str | os.PathLike[str] | None = None, *, clock: Clock | None = None,
                 rng: random.Random | None = None) -> KrakenExchange:
    """The Kraken adapter (the default ``VenueFactory``). Its waits (rate counter, retries, lookups) run on a
    clock a stop does not interrupt (a stop must not cut them short into a spin); tests may share a simulated one."""
    from candlebot.exchanges.kraken import KrakenExchange

    return KrakenExchange(config or KrakenConfig(), credentials=credentials, clock=clock or LiveClock(),
                          state_dir=state_dir, rng=rng)


def mode_venue(mode: str, adapter: Any, pair: PairInfo, clock: Clock, *, fee_rate: Decimal | None = None,
               balances: dict[str, Decimal] | None = None) -> PaperExchange | LiveExchange:
    """What a bot of ``mode`` trades on, around ``adapter``: ``paper`` fills on its prices from ``balances``;
    ``validate`` the same, each order first checked by Kraken (``validate=true``); ``live`` real orders,
    ``balances`` the account as read at start."""
    if mode == "live":
        from candlebot.exchanges.live import LiveExchange

        return LiveExchange(adapter, pair, clock, fee_rate=fee_rate, balances=balances)
    from candlebot.exchanges.paper import PaperExchange

    return PaperExchange(adapter, pair, fee_rate=pair.taker_fee if fee_rate is None else fee_rate, clock=clock,
                         balances=dict(balances or {}), validate=adapter.validate_market_order if mode == "validate" else None)


def bot_policy(config: KrakenConfig) -> KrakenConfig:
    """A running bot's safety policy, whatever built its settings: an outcome-unknown order is never resent and
    is looked up by the bot's reconciler (paced within the rate budget), not for a minute inside the poll loop;
    an order never waits long for its pair's trading counter; placed orders' fills are read through the key's
    shared board."""
    return dataclasses.replace(config, max_sends=1, share_fill_reads=True, order_wait_max=1.0)


def offline_pair(name: str) -> PairInfo:
    """A pair's Kraken metadata without a network call (backtests), from the bundled catalog."""
    return catalog_pair(name)


def public_kraken(url: str | None, timeout: float) -> Callable[[], Callable[..., Any]]:
    """A factory of Kraken public calls (one client, one connection each) for ``candlebot download``.

    ``url``: ``--kraken-url`` (default ``$CANDLEBOT_KRAKEN_URL``, else Kraken); checked before any is made."""
    from candlebot.exchanges.kraken.client import KrakenClient
    from candlebot.exchanges.kraken.config import RetryPolicy

    base = url or os.environ.get(URL_ENV) or DEFAULT_URL
    if not (math.isfinite(timeout) and timeout > 0):
        raise ConfigError(f"--kraken-timeout must be > 0, got {timeout}")
    KrakenClient(url=base).close()  # checks the URL before any thread starts
    # one attempt per call: the download's pacer sees every refusal, adapts its pace and retries (data.download.pace)
    return lambda: KrakenClient(url=base, timeout=(5.0, timeout), retry=RetryPolicy(attempts=1)).public


def start_demo_market(market: Path, start: int) -> Any:
    """The local Kraken simulator replaying the candles of ``market`` from ``start`` (no keys, no internet):
    what ``candlebot-demo`` trades on. ``stop()`` it when done; ``url`` is where it listens."""
    from candlebot.exchanges.kraken_sim import KrakenSimulator, SimConfig

    return KrakenSimulator(SimConfig(tier="none", seed=7, data=market, start=start)).start()


def check_key_file(key_file: str) -> None:
    """``ConfigError`` in the bot's words when a bot could not use ``key_file`` now (missing, not a regular file,
    readable by others); reads only its mode, never the secret (``candlebot fleet``'s warning)."""
    from candlebot.exchanges.kraken.keys import checked_key_file

    checked_key_file(key_file)


def key_account(key_file: str) -> str:
    """The account a live bot's state file records for the API key in ``key_file``: a fingerprint, never the key."""
    from candlebot.exchanges.kraken import load_credentials
    from candlebot.live.store import kraken_account

    return kraken_account(load_credentials(key_file).key_id)
