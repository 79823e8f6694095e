"""The account's fee tier on a pair, read once for every bot on the key: ``<state_dir>/fleet/<key>-fee-<pair>.json``.

Kraken charges an account the fee of its 30-day volume tier: the same for every bot on the key that trades the
pair. Each bot reading TradeVolume for itself spent one unit of the key's REST counter per bot at start (a
starter key regains one every 3 s): twenty bots, a minute of the fleet's budget. So a read is written whole
beside the fleet's other shared files, and a bot whose fee read finds one made within ``fresh_s`` (monotonic,
one clock for the machine's processes) uses it with no call at all.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable, Protocol

from candlebot.live.paths import boot_id

FEE_FRESH_S = 3_600.0  # a tier changes with the 30-day volume: an hour-old reading is the account's fee


class FeeTier(Protocol):
    """The account's fee tier on a pair, as the adapter reads it (``AccountFees``): fractions, 30-day volume."""

    @property
    def taker(self) -> Decimal: ...

    @property
    def maker(self) -> Decimal: ...

    @property
    def volume(self) -> Decimal: ...


@dataclass(frozen=True)
class SharedTier:
    """A tier another bot of the key read."""

    taker: Decimal
    maker: Decimal
    volume: Decimal


class SharedFee:
    """``read(deferrable)`` (the adapter's TradeVolume read) shared through ``folder`` by the bots of ``key_id``."""

    def __init__(self, folder: Path, key_id: str, pair: str, read: Callable[[bool], FeeTier],
                 monotonic: Callable[[], float], *, fresh_s: float = FEE_FRESH_S) -> None:
        self.path = folder / f"{key_id}-fee-{pair}.json"
        self.read = read
        self.monotonic = monotonic
        self.fresh_s = fresh_s

    def __call__(self, deferrable: bool) -> FeeTier:
        """Another bot's fresh reading, else a read of our own (then shared); raises as ``read`` does."""
        shared = self._fresh()
        if shared is not None:
            return shared
        fees = self.read(deferrable)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.new")
        temporary.write_text(json.dumps({"taker": str(fees.taker), "maker": str(fees.maker), "volume": str(fees.volume),
                                         "read_at": self.monotonic(), "boot": boot_id()}))
        os.replace(temporary, self.path)  # whole or not at all
        return fees

    def _fresh(self) -> SharedTier | None:
        try:
            data = json.loads(self.path.read_text())
            fees = SharedTier(Decimal(data["taker"]), Decimal(data["maker"]), Decimal(data["volume"]))
            read_at = float(data["read_at"])
            if data.get("boot", "") != boot_id():
                return None  # a monotonic time from another boot says nothing about now
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, ArithmeticError):  # unreadable: read again (and replace it)
            return None
        return fees if 0.0 <= self.monotonic() - read_at <= self.fresh_s else None
