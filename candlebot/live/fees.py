"""The taker fee live and validate bots size orders with: the account's own, read from Kraken's TradeVolume.

Kraken charges each account the fee of its 30-day volume tier; the pair's
published schedule only says what the first tier pays (the most a taker pays).
Sizing with the account's fee spends the budget the way Kraken will; when
TradeVolume cannot be read (no "query funds" permission, an outage), the
published taker fee is used instead, with a warning: never less than Kraken
can charge, so no order costs more than the budget.

``--fee`` is a floor the user sets: sizing uses the larger of it and the
account's fee. A ``--fee`` below the account's fee is refused at start for
live bots (orders sized with it could cost more than the budget); a later
reading above it wins, with a warning.

Refreshed daily: ``poll`` runs on every ticker poll (a ``TickerPolled``
subscriber) and reads TradeVolume only when a day has passed on the
monotonic clock, as a deferrable call: it never waits for the key's rate
budget or for another process on the key. Deferred, it tries again at the
next poll; failed, it falls back to the published fee and tries again in
``retry_s``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from candlebot.errors import ConfigError, ExchangeError, RateLimitError
from candlebot.pair import PairInfo

DAY_S = 86400.0
RETRY_S = 300.0


@dataclass(frozen=True, slots=True)
class FeeReading:
    """The rate orders are sized with; ``account``: the account's taker fee, None when TradeVolume did not answer."""

    rate: Decimal
    account: Decimal | None
    flagged: bool = False  # --fee is above the fee Kraken charges, and wins

    @property
    def source(self) -> str:
        return "flag" if self.flagged else "account" if self.account is not None else "published"

    def describe(self) -> str:
        percent = f"{float(self.rate * 100):g}%"
        own = ("this account's tier, from Kraken's TradeVolume" if self.account is not None
               else "the pair's published taker fee")
        if self.flagged:
            return f"taker fee {percent} (--fee; {own}: {float((self.account or Decimal(0)) * 100):g}%)" \
                if self.account is not None else f"taker fee {percent} (--fee; above {own})"
        return f"taker fee {percent} ({own})"


class AccountFee:
    """Reads, holds and refreshes the sizing fee; ``bind`` names who must learn a new rate (trader, venue)."""

    def __init__(self, read: Callable[[bool], Any], pair: PairInfo, *, flag: Decimal | None = None,
                 flag_text: str | None = None, log: logging.Logger, monotonic: Callable[[], float] = time.monotonic,
                 every_s: float = DAY_S, retry_s: float = RETRY_S) -> None:
        """``read(deferrable)`` returns the adapter's ``AccountFees`` (``KrakenExchange.account_fees``)."""
        self._read = read
        self.pair = pair
        self.flag = flag
        self.flag_text = flag_text
        self.log = log
        self.monotonic = monotonic
        self.every_s = every_s
        self.retry_s = retry_s
        self.reading = FeeReading(pair.taker_fee, None)
        self._due = float("inf")
        self._setters: list[Callable[[Decimal], None]] = []

    @property
    def rate(self) -> Decimal:
        return self.reading.rate

    def start(self, *, live: bool) -> FeeReading:
        """The first reading, shown in the log. Without ``--fee`` it never waits for the key's budget: deferred
        (a fleet starting on one key), orders are sized with the published taker fee, the most Kraken charges,
        and the next poll reads again. With ``--fee`` it waits: the flag is checked against the account's fee.

        ConfigError when a live bot's ``--fee`` is below the fee Kraken will charge.
        """
        if self.flag is None:
            try:
                account = self._fetch(deferrable=True)
            except RateLimitError:  # nothing was sent: the first poll tries again
                self.reading, self._due = self._combine(None), self.monotonic()
                self.log.info("fee: %s until this account's own is read (the key's rate budget is busy)",
                              self.reading.describe())
                return self.reading
        else:
            account = self._fetch(deferrable=False)
        floor = account if account is not None else self.pair.taker_fee
        if live and self.flag is not None and self.flag < floor:
            raise ConfigError(f"--fee {self.flag_text} is below Kraken's taker fee for {self.pair.altname} "
                              f"({float(floor * 100):g}%): live orders sized with it could cost more than "
                              "the bot's budget")
        self.reading = self._combine(account)
        self._due = self.monotonic() + (self.every_s if account is not None else self.retry_s)
        self.log.info("fee: %s", self.reading.describe())
        return self.reading

    def bind(self, *setters: Callable[[Decimal], None]) -> None:
        self._setters.extend(setters)

    def poll(self, event: object = None) -> None:
        """A ticker poll: read TradeVolume again when the day is over (never waiting for the rate budget)."""
        if self.monotonic() < self._due:
            return
        try:
            account = self._fetch(deferrable=True)
        except RateLimitError:  # deferred: nothing was sent; the next poll tries again
            return
        self._due = self.monotonic() + (self.every_s if account is not None else self.retry_s)
        reading = self._combine(account)
        if account is not None and self.flag is not None and account > self.flag:
            self.log.warning("fee: the account's taker fee %g%% is now above --fee %s: orders are sized with %g%%",
                             float(account * 100), self.flag_text, float(account * 100))
        if reading != self.reading:
            self.log.info("fee: now %s (was %g%%)", reading.describe(), float(self.reading.rate * 100))
            self.reading = reading
            for setter in self._setters:
                setter(reading.rate)

    def _fetch(self, *, deferrable: bool) -> Decimal | None:
        """The account's taker fee, or None (warned) when it cannot be read; RateLimitError when deferred."""
        try:
            return Decimal(self._read(deferrable).taker)
        except RateLimitError:
            if deferrable:
                raise
            problem: Exception = RuntimeError("rate limited")
        except ExchangeError as exc:
            problem = exc
        self.log.warning("fee: cannot read this account's fee from Kraken's TradeVolume (%s): sizing orders with "
                         "the published taker fee %g%%", problem, float(self.pair.taker_fee * 100))
        return None

    def _combine(self, account: Decimal | None) -> FeeReading:
        own = account if account is not None else self.pair.taker_fee
        if self.flag is not None and self.flag > own:
            return FeeReading(self.flag, account, flagged=True)
        return FeeReading(own, account)
