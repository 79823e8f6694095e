"""Kraken's per-key REST rate counter, server side.

Each private call adds its cost (1; 2 for ledger and trade history) to the
key's counter, which decays linearly at the tier's rate. A call that would
take the counter above the tier's maximum is refused with
``EAPI:Rate limit exceeded`` and adds nothing. Tier ``none`` keeps no counter
(load tests). Time comes from the injected clock so that tests can step it.
"""

from __future__ import annotations

from dataclasses import dataclass

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

_HEAVY = frozenset({"TradesHistory", "Ledgers", "QueryLedgers"})


def tier_named(name: str) -> Tier | None:
    try:
        return TIERS[name]
    except KeyError:
        raise ConfigError(f"unknown tier {name!r} (choose from {', '.join(TIERS)})") from None


def call_cost(method: str) -> int:
    return 2 if method in _HEAVY else 1


class RateCounter:
    """Counters of every key under one tier. Not thread-safe: the venue calls it under its lock."""

    def __init__(self, tier: Tier | None) -> None:
        self.tier = tier
        self._levels: dict[str, tuple[float, float]] = {}

    def level(self, key: str, now: float) -> float:
        if self.tier is None:
            return 0.0
        level, at = self._levels.get(key, (0.0, now))
        return max(0.0, level - max(0.0, now - at) * self.tier.decay)

    def admit(self, key: str, method: str, now: float) -> bool:
        """Count the call and say whether it may run."""
        if self.tier is None:
            return True
        level = self.level(key, now) + call_cost(method)
        if level > self.tier.maximum:
            return False
        self._levels[key] = (level, now)
        return True
