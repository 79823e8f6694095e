"""An account's fee tier: its 30-day volume against the pair's published schedule.

Kraken charges each account the rate of the tier its 30-day trade volume
(in the pair's ``fee_volume_currency``, USD) has reached, and ``TradeVolume``
reports it: ``fee`` (this tier), ``minfee``/``maxfee`` (the schedule's
cheapest and dearest), ``nextfee``/``nextvolume`` (the next tier, empty at
the last: null) and ``tiervolume`` (where this tier starts). Percent strings with 4
decimals, as Kraken prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from candlebot.pair import PairInfo
from candlebot.exchanges.kraken_sim.units import fixed

WINDOW_S = 30 * 86400


@dataclass(frozen=True, slots=True)
class Tier:
    rate: Decimal  # a fraction: 0.0026
    start: Decimal
    next_rate: Decimal | None
    next_volume: Decimal | None


def tier(schedule: tuple[tuple[Decimal, Decimal], ...], volume: Decimal, fallback: Decimal) -> Tier:
    """The tier of ``volume`` in ``schedule`` ((volume, rate) rows, ascending)."""
    if not schedule:
        return Tier(fallback, Decimal(0), None, None)
    index = max(k for k, (start, _) in enumerate(schedule) if volume >= start or k == 0)
    start, rate = schedule[index]
    after = schedule[index + 1] if index + 1 < len(schedule) else None
    return Tier(rate, start, after[1] if after else None, after[0] if after else None)


def rates(pair: PairInfo, volume: Decimal) -> tuple[Decimal, Decimal]:
    """(taker, maker) fractions an account with 30-day ``volume`` pays on ``pair``."""
    return (tier(pair.taker_tiers, volume, pair.taker_fee).rate,
            tier(pair.maker_tiers, volume, pair.maker_fee).rate)


def tier_json(schedule: tuple[tuple[Decimal, Decimal], ...], volume: Decimal,
              fallback: Decimal) -> dict[str, str | None]:
    """One pair's entry of TradeVolume's ``fees`` or ``fees_maker``."""
    found = tier(schedule, volume, fallback)
    all_rates = [rate for _, rate in schedule] or [fallback]
    out: dict[str, str | None] = {"fee": _percent(found.rate), "minfee": _percent(min(all_rates)), "maxfee": _percent(max(all_rates))}
    if found.next_rate is not None and found.next_volume is not None:
        out["nextfee"] = _percent(found.next_rate)
        out["nextvolume"] = fixed(found.next_volume, 4)
    else:
        out["nextfee"], out["nextvolume"] = None, None
    out["tiervolume"] = fixed(found.start, 4)
    return out


def _percent(rate: Decimal) -> str:
    return fixed(rate * 100, 4)
