"""Client-side models of Kraken's two rate counters: the per-key REST counter and the per-pair trading counter.

REST: Kraken keeps one counter per API key: each private call adds 1 (2 for
``TradesHistory``/``Ledgers``/``QueryLedgers``), the counter decays at a rate
set by the account tier, and a call that would take it above the tier's
maximum is refused with ``EAPI:Rate limit exceeded``. **AddOrder and
CancelOrder are not on it** (cost 0 here, as in ccxt).

Trading: the matching engine keeps one counter per key and pair for AddOrder
(+1) and CancelOrder (a penalty up to 8, larger the younger the order; the
client does not know the age and counts the most), with its own maxima and
decay per tier; above it: ``EOrder:Rate limit exceeded``.

Both models are kept pessimistic (``headroom`` units stay free, a refusal
means a full counter) so that a bot waits a little before a call instead of
being refused in normal work. Their state lives in files under the state
directory (``nonce``, ``tradecounter``), so that every process using the key
shares them; times are ``Clock.monotonic`` seconds, one clock for every
process of the machine, so that a wall-clock step neither freezes nor frees a
counter.
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

TRADING_TIERS: dict[str, RateTier] = {
    "starter": RateTier("starter", 1.0, 60),
    "intermediate": RateTier("intermediate", 2.34, 125),
    "pro": RateTier("pro", 3.75, 180),
}

TRADING_METHODS = frozenset({"AddOrder", "CancelOrder"})
_HEAVY_METHODS = frozenset({"TradesHistory", "Ledgers", "QueryLedgers"})
MAX_CANCEL_PENALTY = 8


def tier_named(name: str | None) -> RateTier | None:
    """The tier for a ``--kraken-tier`` value; ``none`` (or None) disables client-side limiting."""
    if name is None or name.lower() == "none":
        return None
    try:
        return TIERS[name.lower()]
    except KeyError:
        raise ConfigError(f"unknown Kraken tier {name!r} (choose from {', '.join(TIERS)}, none)") from None


def trading_tier_named(name: str | None) -> RateTier | None:
    """The trading counter of a ``--kraken-tier`` value (None for ``none``)."""
    tier = tier_named(name)
    return None if tier is None else TRADING_TIERS[tier.name]


def call_cost(method: str) -> int:
    """What one private call adds to the REST counter: 0 for AddOrder and CancelOrder."""
    if method in TRADING_METHODS:
        return 0
    return 2 if method in _HEAVY_METHODS else 1


def trading_cost(method: str) -> int:
    """What one call adds to the pair's trading counter (a cancel is counted at its largest penalty)."""
    return {"AddOrder": 1, "CancelOrder": MAX_CANCEL_PENALTY}.get(method, 0)


@dataclass(frozen=True, slots=True)
class CounterState:
    """The modelled counter: ``level`` units as of monotonic time ``at``."""

    level: float = 0.0
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class RateLimiter:
    """Admission decisions for one tier; pure functions of the stored state and the (monotonic) time."""

    tier: RateTier
    headroom: float = 1.0

    @property
    def ceiling(self) -> float:
        return max(1.0, self.tier.maximum - self.headroom)

    def level_at(self, state: CounterState, now: float) -> float:
        # a stored time ahead of now (a file from before a reboot, or from wall-clock days) counts from now
        elapsed = max(0.0, now - min(state.at, now))
        return max(0.0, state.level - elapsed * self.tier.decay)

    def admit(self, state: CounterState, cost: int, now: float, *, reserve: float = 0.0) -> tuple[CounterState | None, float]:
        """(new state, 0) when a call of ``cost`` may go now, else (None, seconds to wait first).

        ``reserve`` units stay free for other calls (deferrable lookups leave room for orders).
        A call of cost 0 always goes and changes nothing.
        """
        if cost <= 0:
            return state, 0.0
        level = self.level_at(state, now)
        ceiling = max(float(cost), self.ceiling - reserve)
        if level + cost <= ceiling:
            return CounterState(level + cost, now), 0.0
        return None, (level + cost - ceiling) / self.tier.decay

    def refused(self, now: float) -> CounterState:
        """The server said the counter is full: assume it is, as of now."""
        return CounterState(float(self.tier.maximum), now)
