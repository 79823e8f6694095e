"""candlebot's one error tree, grouped by what the caller must do.

    CandlebotError
    ├── ConfigError                 user input or configuration: say it in one line, exit 2
    │   ├── DataFileError           a data file is missing, unreadable or malformed
    │   └── StateFileError          the bot's state file is empty, corrupt, foreign or impossible: refuse to start
    ├── ExchangeError               raised only by exchange adapters, translated once at the boundary
    │   ├── FatalExchangeError      our bug or config (bad arguments, unknown pair): stop, never retry
    │   │   └── AuthError           bad key, signature or permission: stop the bot, alert
    │   ├── TemporaryExchangeError  rejected before processing or a read failed: back off, retry
    │   │   └── RateLimitError      a rate counter is full: back off longer, retry
    │   ├── OrderRejected           the exchange refused this order (funds, minimums): event, no retry
    │   └── OrderOutcomeUnknown     an order may or may not exist: reconcile by reference, never resend blindly
    ├── StateWriteError             the bot's state cannot be written while running: stop (exit 2), alert
    ├── StrategyError               a strategy raised: skip the candle, report, go on
    │   └── OrderArgumentError      a strategy asked for an impossible order (a trade not open): nothing sent
    └── BooksInvariantError         the books broke an invariant (cash below zero, a close larger than its trade):
                                    a bug; stop the bot (crash-only: a person looks before it trades again)

Every vendor exception (requests, krakenex, JSON decoding) is wrapped into one
of these with ``raise ... from exc`` by the adapter that saw it; nothing above
the exchange boundary ever catches a ``requests`` or ``KeyError`` exception.
"""

from __future__ import annotations


class CandlebotError(Exception):
    """Base of every error candlebot raises on purpose."""


class ConfigError(CandlebotError):
    """A user mistake in flags, parameters or files: reported in one line, exit code 2."""


class DataFileError(ConfigError):
    """A data file cannot be used; the message names the file (and line, when one is at fault)."""


class StateFileError(ConfigError):
    """A bot's state file exists but cannot be trusted; the bot never starts fresh books over it."""


class StateWriteError(CandlebotError):
    """The state file refused a write (read-only, disk full, locked too long).

    Fatal: a bot that cannot record its intents must not send orders, so no
    safety net (the engine's strategy guard included) may swallow it.
    """


class ExchangeError(CandlebotError):
    """An exchange call failed. ``code`` is the exchange's own error string, when it sent one."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class FatalExchangeError(ExchangeError):
    """Retrying cannot help (invalid arguments, unknown pair, permission): stop and fix the config."""


class AuthError(FatalExchangeError):
    """The exchange refused our credentials or signature."""


class TemporaryExchangeError(ExchangeError):
    """Safe to retry after a pause: the request was not processed, or it only read data."""

    def __init__(self, message: str, *, code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class RateLimitError(TemporaryExchangeError):
    """A rate counter is full; the pause should be longer than for other temporary errors."""


class OrderRejected(ExchangeError):
    """The exchange refused the order (insufficient funds, below minimum): record it, do not retry."""


class OrderOutcomeUnknown(ExchangeError):
    """The order may have been placed; only a lookup by its reference can tell."""

    def __init__(self, message: str, *, userref: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.userref = userref


class OrderFillPending(OrderOutcomeUnknown):
    """The order WAS placed (the exchange gave its id); what it executed is read on a later poll, when the key's
    shared rate budget allows: the poll loop never waits for it. Not a failure: pending, quietly."""


class StrategyError(CandlebotError):
    """A strategy's code raised while handling a candle; wraps the original exception."""


class OrderArgumentError(StrategyError, ValueError):
    """A strategy called ``buy``/``close`` with what cannot be an order (a trade that is not open, a volume that is
    not a finite Decimal): its own mistake, raised before anything is sent; the candle is skipped."""


class BooksInvariantError(CandlebotError):
    """The ledger was asked to book something impossible; never swallowed as a strategy error."""
