"""The simulator's configuration: typed, frozen, validated at construction."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from candlebot.errors import ConfigError
from candlebot.exchanges.kraken_sim.faults import Faults
from candlebot.exchanges.kraken_sim.ratelimit import TIERS

FEE_DEFAULTS = ("by_side", "quote")
"""Values of ``SimConfig.default_fee_currency``."""


@dataclass(frozen=True)
class SimConfig:
    """Everything a ``KrakenSimulator`` needs.

    - ``api_keys``: API key -> base64 secret. Each key is its own account
      (bots sharing a key share its balances, nonce and rate counter). Secrets
      never appear in ``repr`` or in error messages.
    - ``balances``: starting balances of every account, by Kraken asset code
      (``{"ZUSD": Decimal("10000"), "XXBT": Decimal("0.5")}``).
    - ``pair``: the pair whose market is simulated (id or altname from the
      AssetPairs snapshot). Other snapshot pairs answer AssetPairs only.
    - ``data``: a candle CSV (``time,open,high,low,close,volume``) or a
      trades CSV (``time,price,volume[,side]``), plain or .gz, to replay;
      None generates a seeded random walk instead.
    - ``speed``: simulated seconds per wall second (replays run faster).
    - ``start``: replay only: the unix time to start at (default: the first
      candle or trade; later starts give the market a history before "now";
      the replay's end puts all of it in the past; one before the data starts
      at its first candle, with a warning, as a backtest does).
    - ``start_price``: generated path only: the level the walk moves around
      (default: a plausible price for the pair, 30000 for XBTUSD).
    - ``history_days``: generated path only: days of history before the start
      (OHLC/Trades return nothing older, like a newly listed pair).
    - ``seed``: seeds the price path, the book, ids and the fault RNG.
    - ``tier``: rate-counter tier (starter, intermediate, pro, none).
    - ``host``/``port``: where to listen; port 0 picks a free port.
    - ``faults``: the fault set at start (changeable later).
    - ``tick_size``: the simulated pair's price tick, served in AssetPairs and
      enforced on order prices (default: the snapshot's). A tick coarser than
      10^-pair_decimals (0.5 at 1 decimal) is how a client's tick rounding is tested.
    - ``default_fee_currency``: who pays the fee when AddOrder's ``oflags``
      has neither fciq nor fcib: ``"by_side"`` (default; Kraken's AddOrder
      reference: quote for buys, base for sells) or ``"quote"`` (quote for
      both, as before). See ``accounts`` for the sources and the arithmetic.
    - ``volume_30d``: every account's 30-day trade volume (USD) at start; it
      sets the account's fee tier (TradeVolume, and the fees charged), as on
      Kraken. 0: the published first tier.
    """

    api_keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    balances: Mapping[str, Decimal] = field(default_factory=dict)
    pair: str = "XBTUSD"
    data: Path | None = None
    speed: float = 1.0
    seed: int = 1
    tier: str = "starter"
    host: str = "127.0.0.1"
    port: int = 0
    faults: Faults = field(default_factory=Faults)
    start: int | None = None
    start_price: Decimal | None = None
    history_days: int = 30
    default_fee_currency: str = "by_side"
    volume_30d: Decimal = Decimal(0)
    tick_size: Decimal | None = None

    def __post_init__(self) -> None:
        keys = {}
        for key, secret in dict(self.api_keys).items():
            if not key or not isinstance(key, str):
                raise ConfigError("api_keys: every API key must be a non-empty string")
            secret_bytes(secret, key)
            keys[key] = secret
        object.__setattr__(self, "api_keys", MappingProxyType(keys))
        object.__setattr__(self, "balances", MappingProxyType(
            {asset: _amount(asset, value) for asset, value in dict(self.balances).items()}))
        if self.data is not None:
            object.__setattr__(self, "data", Path(self.data))
        if not self.speed > 0:
            raise ConfigError(f"speed must be > 0, got {self.speed}")
        if self.tier not in TIERS:
            raise ConfigError(f"unknown tier {self.tier!r} (choose from {', '.join(TIERS)})")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be within 0..65535, got {self.port}")
        if self.history_days < 1:
            raise ConfigError(f"history_days must be >= 1, got {self.history_days}")
        if self.start_price is not None:
            object.__setattr__(self, "start_price", _amount("start_price", self.start_price))
            if self.start_price <= 0:
                raise ConfigError("start_price must be > 0")
        object.__setattr__(self, "volume_30d", _amount("volume_30d", self.volume_30d))
        if self.tick_size is not None:
            object.__setattr__(self, "tick_size", _amount("tick_size", self.tick_size))
            if self.tick_size <= 0:
                raise ConfigError("tick_size must be > 0")
        if not isinstance(self.faults, Faults):
            raise ConfigError("faults must be a Faults instance")
        if self.default_fee_currency not in FEE_DEFAULTS:
            raise ConfigError(f"default_fee_currency must be one of {', '.join(FEE_DEFAULTS)}, "
                              f"got {self.default_fee_currency!r}")

    def __repr__(self) -> str:
        return (f"SimConfig(keys={sorted(self.api_keys)}, balances={dict(self.balances)}, pair={self.pair!r}, "
                f"data={self.data}, speed={self.speed}, seed={self.seed}, tier={self.tier!r}, "
                f"host={self.host!r}, port={self.port}, default_fee_currency={self.default_fee_currency!r})")


def secret_bytes(secret: str, key: str) -> bytes:
    """The decoded secret; the message names the key, never the secret."""
    try:
        decoded = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError, TypeError):
        decoded = b""
    if not decoded:
        raise ConfigError(f"api_keys: the secret of key {key!r} is not valid base64")
    return decoded


def _amount(name: str, value: object) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{name}: {value!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise ConfigError(f"{name}: amount must be finite and >= 0, got {value!r}")
    return amount
