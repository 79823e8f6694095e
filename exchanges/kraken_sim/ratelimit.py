"""Kraken's two rate counters, server side: the per-key REST counter and the per-pair trading counter.

REST: each private call adds its cost (1; 2 for ledger and trade history) to
the key's counter, which decays linearly at the tier's rate. A call that would
take the counter above the tier's maximum is refused with
``EAPI:Rate limit exceeded`` and adds nothing. AddOrder and CancelOrder are
not on this counter (Kraken's support article "Regular call limits vs
add/cancel order counter limits"; ccxt gives them cost 0).

Trading: the matching engine keeps one counter per key and pair. AddOrder adds
1 (on receipt, even when the order then fails validation); CancelOrder adds
nothing fixed but a penalty that is larger the younger the order (8 under 5 s
down to 1 under 300 s); the counter decays at the tier's rate and a
transaction above the tier's maximum is refused with
``EOrder:Rate limit exceeded`` (Kraken's "Spot Trading Limits" page).

Tier ``none`` keeps no counter (load tests). Time comes from the injected clock
so that tests can step it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from candlebot.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Tier:
    """A verification tier: the counter decays ``decay`` units per second and may not exceed ``maximum``."""

    name: str
    decay: float
    maximum: float


TIERS: dict[str, Tier | None] = {
    "starter": Tier("starter", 0.33, 15),
    "intermediate": Tier("intermediate", 0.5, 20),
    "pro": Tier("pro", 1.0, 20),
    "none": None,
}

TRADING_TIERS: dict[str, Tier | None] = {
    "starter": Tier("starter", 1.0, 60),
    "intermediate": Tier("intermediate", 2.34, 125),
    "pro": Tier("pro", 3.75, 180),
    "none": None,
}

TRADING_METHODS = frozenset({"AddOrder", "CancelOrder"})
"""Calls counted on the per-pair trading counter, never on the REST counter."""

_HEAVY = frozenset({"TradesHistory", "Ledgers", "QueryLedgers"})
_CANCEL_PENALTY = ((5.0, 8), (10.0, 6), (15.0, 5), (45.0, 4), (90.0, 2), (300.0, 1))


def tier_named(name: str) -> Tier | None:
    try:
        return TIERS[name]
    except KeyError:
        raise ConfigError(f"unknown tier {name!r} (choose from {', '.join(TIERS)})") from None


def trading_tier_named(name: str) -> Tier | None:
    tier_named(name)
    return TRADING_TIERS[name]


def call_cost(method: str) -> int:
    """What a call adds to the REST counter (0 for the calls the trading counter counts)."""
    if method in TRADING_METHODS:
        return 0
    return 2 if method in _HEAVY else 1


def cancel_penalty(age: float) -> int:
    """What canceling an order that rested ``age`` seconds adds to the trading counter."""
    for below, penalty in _CANCEL_PENALTY:
        if age < below:
            return penalty
    return 0


class _Counters:
    """Linearly decaying counters under one tier, by name; refusals add nothing."""

    def __init__(self, tier: Tier | None) -> None:
        self.tier = tier
        self._levels: dict[object, tuple[float, float]] = {}

    def level(self, name: object, now: float) -> float:
        if self.tier is None:
            return 0.0
        level, at = self._levels.get(name, (0.0, now))
        return max(0.0, level - max(0.0, now - at) * self.tier.decay)

    def admit_cost(self, name: object, cost: float, now: float) -> bool:
        if self.tier is None or cost <= 0:
            return True
        level = self.level(name, now) + cost
        if level > self.tier.maximum:
            return False
        self._levels[name] = (level, now)
        return True


class RateCounter(_Counters):
    """REST counters of every key under one tier. Not thread-safe: the venue calls it under its lock."""

    def admit(self, key: str, method: str, now: float) -> bool:
        """Count the call and say whether it may run."""
        return self.admit_cost(key, call_cost(method), now)


class TradingCounter(_Counters):
    """Trading counters of every (key, pair) under one tier. Not thread-safe: the venue calls it under its lock."""

    def admit_add(self, key: str, pair: str, now: float) -> bool:
        return self.admit_cost((key, pair), 1, now)

    def admit_cancel(self, key: str, pair: str, ages: Iterable[float], now: float) -> bool:
        return self.admit_cost((key, pair), sum(cancel_penalty(age) for age in ages), now)
