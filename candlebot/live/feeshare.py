"""The account's fee tier on a pair, read once for every bot on the key: ``<state_dir>/fleet/<key>-fee-<pair>.json``.

Kraken charges an account the fee of its 30-day volume tier: the same for every bot on the key that trades the
pair. Each bot reading TradeVolume for itself spent one unit of the key's REST counter per bot at start (a
starter key regains one every 3 s): twenty bots, a minute of the fleet's budget. So a read is written whole
beside the fleet's other shared files, and a bot whose fee read finds one made within ``fresh_s`` (monotonic,
one clock for the machine's processes) uses it with no call at all. One reader at a time, as for the account
(``candlebot.live.sharedread``): bots starting together wait for one read, and a bot on its poll loop, which never
waits, is deferred to its next poll, which finds the reading made meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable, Protocol

from candlebot.errors import RateLimitError
from candlebot.live.paths import boot_id
from candlebot.live.sharedread import ReaderBusy, Stamp, one_reader
from candlebot.live.wholefile import UnreadableFile, read_json, write_json

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
    """``read(deferrable)`` (the adapter's TradeVolume read) shared through ``folder`` by the bots of ``key_id``:
    one reader at a time (``<key>-fee-<pair>.lock``), the others then use its reading, as for the account."""

    def __init__(self, folder: Path, key_id: str, pair: str, read: Callable[[bool], FeeTier],
                 monotonic: Callable[[], float], *, fresh_s: float = FEE_FRESH_S) -> None:
        self.path = folder / f"{key_id}-fee-{pair}.json"
        self.lock_path = folder / f"{key_id}-fee-{pair}.lock"
        self.read = read
        self.monotonic = monotonic
        self.fresh_s = fresh_s

    def __call__(self, deferrable: bool) -> FeeTier:
        """Another bot's fresh reading, else a read of our own (then shared); raises as ``read`` does. Deferrable
        (the poll loop, which never waits): ``RateLimitError`` while another bot of the key is reading it, whose
        reading the next poll then uses."""
        shared = self._fresh()
        if shared is not None:
            return shared
        try:
            with one_reader(self.lock_path, wait=not deferrable):
                shared = self._fresh()  # read by the bot we waited for
                if shared is not None:
                    return shared
                fees = self.read(deferrable)
                write_json(self.path, {"taker": str(fees.taker), "maker": str(fees.maker), "volume": str(fees.volume),
                                       "read_at": self.monotonic(), "boot": boot_id()})  # whole or not at all
                return fees
        except ReaderBusy:
            raise RateLimitError("another bot of the key is reading the account's fee tier now") from None

    def _fresh(self) -> SharedTier | None:
        try:
            data = read_json(self.path)
            fees = SharedTier(Decimal(data["taker"]), Decimal(data["maker"]), Decimal(data["volume"]))
            stamp = Stamp(float(data["read_at"]), str(data.get("boot", "")))
        except FileNotFoundError:
            return None
        except (UnreadableFile, ValueError, KeyError, TypeError, ArithmeticError):  # unreadable: read again (and replace it)
            return None
        return fees if stamp.fresh(self.monotonic(), self.fresh_s) else None
