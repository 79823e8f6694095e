"""A client-side model of Kraken's per-key REST rate counter.

Kraken keeps one counter per API key: each private call adds 1 (2 for
``TradesHistory``/``Ledgers``/``QueryLedgers``), the counter decays at a rate
set by the account tier, and a call that would take it above the tier's
maximum is refused with ``EAPI:Rate limit exceeded``. The model here is kept
pessimistic (it counts every private call, keeps ``headroom`` units free and
assumes a full counter after a refusal) so that a bot waits a little before a
call instead of being refused in normal work.

The state (level, time) is stored by ``NonceSequencer`` in the per-key locked
file, so that every process using the key shares one counter.
"""

from __future__ import annotations

from dataclasses import dataclass

from candlebot.errors import ConfigError


@dataclass(frozen=True, slots=True)
class RateTier:
    """One verification tier's counter: ``decay`` units per second, refused above ``maximum``."""

    name: str
    decay: float
    maximum: float

    def __post_init__(self) -> None:
        if self.decay <= 0 or self.maximum < 1:
            raise ConfigError(f"rate tier {self.name}: decay must be > 0 and maximum >= 1")


TIERS: dict[str, RateTier] = {
    "starter": RateTier("starter", 0.33, 15),
    "intermediate": RateTier("intermediate", 0.5, 20),
    "pro": RateTier("pro", 1.0, 20),
}

_HEAVY_METHODS = frozenset({"TradesHistory", "Ledgers", "QueryLedgers"})


def tier_named(name: str | None) -> RateTier | None:
    """The tier for a ``--kraken-tier`` value; ``none`` (or None) disables client-side limiting."""
    if name is None or name.lower() == "none":
        return None
    try:
        return TIERS[name.lower()]
    except KeyError:
        raise ConfigError(f"unknown Kraken tier {name!r} (choose from {', '.join(TIERS)}, none)") from None


def call_cost(method: str) -> int:
    """What one private call adds to the counter."""
    return 2 if method in _HEAVY_METHODS else 1


@dataclass(frozen=True, slots=True)
class CounterState:
    """The modelled counter: ``level`` units as of unix time ``at``."""

    level: float = 0.0
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class RateLimiter:
    """Admission decisions for one tier; pure functions of the stored state and the time."""

    tier: RateTier
    headroom: float = 1.0

    @property
    def ceiling(self) -> float:
        return max(1.0, self.tier.maximum - self.headroom)

    def level_at(self, state: CounterState, now: float) -> float:
        elapsed = max(0.0, now - state.at)
        return max(0.0, state.level - elapsed * self.tier.decay)

    def admit(self, state: CounterState, cost: int, now: float, *, reserve: float = 0.0) -> tuple[CounterState | None, float]:
        """(new state, 0) when a call of ``cost`` may go now, else (None, seconds to wait first).

        ``reserve`` units stay free for other calls (deferrable lookups leave room for orders).
        """
        level = self.level_at(state, now)
        ceiling = max(float(cost), self.ceiling - reserve)
        if level + cost <= ceiling:
            return CounterState(level + cost, now), 0.0
        return None, (level + cost - ceiling) / self.tier.decay

    def refused(self, now: float) -> CounterState:
        """The server said the counter is full: assume it is, as of now."""
        return CounterState(float(self.tier.maximum), now)
