"""The books against the account (live): open volume against the base balance, orders against the exchange's.

    every poll: poll() -> due and no order unsettled? -> snapshot the books (bot thread)
                       -> read Balance, OpenOrders, ClosedOrders (a worker thread; the first audit inline)
                       -> compare (bot thread), unless something was booked meanwhile (then again at once)

Books that claim more base than the account holds, or an order the exchange
executed differently from what the books say, put the bot on hold: it opens
no trade (closing is still allowed) and every audit reports it again (log line,
Slack alert, ``candlebot.audit.*`` metrics) until a person has looked. The hold
is kept in the state file, so a restart does not lift it; a person lifts it with
``candlebot-ledger --name BOT --clear-hold``, after which the bot audits again
at once (and holds again if the books are still wrong).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterable, Protocol

from candlebot.clock import Clock
from candlebot.events import BooksAudited, BotError, EventBus
from candlebot.venue import Side
from candlebot.trading.ledger import Ledger
from candlebot.money import ZERO
from candlebot.pair import PairInfo
from candlebot.trading.trader import Trader

log = logging.getLogger(__name__)

HOLD_KEY = "audit_hold"
HOLD = "audit"  # the trader's hold this module sets
CLEAR_HINT = "candlebot-ledger --name {bot} --clear-hold"
PAGE = 50  # Kraken's ClosedOrders page
MAX_PAGES = 4
CLOCK_MARGIN_S = 300.0  # the exchange's clock against ours, when asking for orders since a time
FIRST_WINDOW_S = 86_400.0  # the first audit looks at a day of orders
LOOKBACK_S = 3_600.0  # later ones at least an hour back: an order booked as failed can appear late


class AccountOrder(Protocol):
    userref: int | None
    status: str
    side: Side
    volume_executed: Decimal


class Account(Protocol):
    """What an audit reads: the account's balances and its orders (Kraken's adapter fits)."""

    def balances(self) -> dict[str, Decimal]: ...

    def open_orders(self, userref: int | None = None) -> list[AccountOrder]: ...

    def closed_orders(self, userref: int | None = None, *, start: float | None = None,
                      ofs: int | None = None) -> list[AccountOrder]: ...


class AuditStore(Protocol):
    """The bot's state file as an audit needs it (``candlebot.live.store.BotStore`` fits)."""

    @property
    def changes(self) -> int: ...

    def meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def orders(self) -> list[dict[str, object]]: ...


@dataclass(frozen=True)
class AccountView:
    """One read of the account; ``complete``: every closed order since ``since`` was listed."""

    base: Decimal
    orders: dict[int, AccountOrder]
    since: float
    complete: bool


@dataclass(frozen=True)
class _Snapshot:
    changes: int
    booked: Decimal
    orders: tuple[dict[str, object], ...]
    taken: float


class _Read:
    """The account read of one audit, on a worker thread or inline."""

    def __init__(self, call: Callable[[], AccountView]) -> None:
        self.call = call
        self.view: AccountView | None = None
        self.error: Exception | None = None
        self.thread: threading.Thread | None = None

    def run(self) -> None:
        try:
            self.view = self.call()
        except Exception as exc:  # handed to the bot thread, which reports it and tries again later
            self.error = exc

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name="audit", daemon=True)
        self.thread.start()

    @property
    def done(self) -> bool:
        return self.thread is None or not self.thread.is_alive()


class Auditor:
    """Audits one live bot's books; ``poll()`` from the bot's loop, it never blocks it after the first audit."""

    def __init__(
        self, *, bot: str, pair: PairInfo, account: Account, store: AuditStore, ledger: Ledger, trader: Trader,
        bus: EventBus, clock: Clock, interval_s: float = 600.0, retry_s: float = 30.0,
    ) -> None:
        self.bot = bot
        self.pair = pair
        self.account = account
        self.store = store
        self.ledger = ledger
        self.trader = trader
        self.bus = bus
        self.clock = clock
        self.interval_s = interval_s
        self.retry_s = min(retry_s, interval_s)
        self.audits = 0
        self.attempts = 0
        self.next_due = clock.monotonic()  # schedules on the monotonic clock; look-backs by the calendar
        self._since = clock.now() - FIRST_WINDOW_S
        self._read: _Read | None = None
        self._snapshot: _Snapshot | None = None
        stored = store.meta(HOLD_KEY)
        if stored:
            self._hold(stored)

    @property
    def held(self) -> bool:
        return HOLD in self.trader.holds

    def poll(self) -> None:
        """Finish an audit whose read is done, start one when due; only the very first audit reads inline."""
        self._notice_cleared()
        if self._read is not None:
            if not self._read.done:
                return
            self._finish()
        if self.clock.monotonic() < self.next_due or self.trader.unsettled:
            return  # an order whose outcome is unknown is settled first: the books are not final before
        self._start()

    def _start(self) -> None:
        since = self._since
        recent = tuple(o for o in self.store.orders() if float(o["created"]) >= since)  # type: ignore[arg-type]
        self._snapshot = _Snapshot(self.store.changes, self.ledger.position, recent, self.clock.now())
        self._read = _Read(lambda: self.read_account(since))
        self.attempts += 1
        if self.attempts == 1:
            self._read.run()  # at start: the books are compared before the first trade
            self._finish()
        else:
            self._read.start()

    def read_account(self, since: float) -> AccountView:
        balances = self.account.balances()
        found: dict[int, AccountOrder] = {o.userref: o for o in self.account.open_orders() if o.userref is not None}
        complete = False
        for page in range(MAX_PAGES):
            batch = self.account.closed_orders(start=since - CLOCK_MARGIN_S, ofs=page * PAGE if page else None)
            found.update((o.userref, o) for o in batch if o.userref is not None and o.userref not in found)
            if len(batch) < PAGE:
                complete = True
                break
        return AccountView(balances.get(self.pair.base, ZERO), found, since, complete)

    def _finish(self) -> None:
        read, snapshot = self._read, self._snapshot
        self._read = self._snapshot = None
        assert read is not None and snapshot is not None
        now, due = self.clock.now(), self.clock.monotonic()
        if read.error is not None:
            self.next_due = due + self.retry_s
            self.bus.emit(BotError(now, "audit", f"cannot compare the books with the account yet: {read.error}"))
            return
        if self.store.changes != snapshot.changes:
            self.next_due = due  # an order was booked while the account was read: compare again
            return
        assert read.view is not None
        problems = tuple(compare(snapshot.booked, read.view, snapshot.orders, self.pair))
        self.audits += 1
        self._since = snapshot.taken - max(self.interval_s, LOOKBACK_S)
        self.next_due = due + self.interval_s
        if problems and not self.held:
            reason = f"{problems[0]}{f' (and {len(problems) - 1} more)' if len(problems) > 1 else ''}"
            self.store.set_meta(HOLD_KEY, reason)
            self._hold(reason)
        self.bus.emit(BooksAudited(now, snapshot.booked, read.view.base, problems, self.held))
        if not problems and not self.held:
            log.info("audit: the books agree with the account (%s %s booked, %s held)", snapshot.booked, self.pair.base,
                     read.view.base)
        else:
            log.error("audit: %s; no trade is opened until a person checks the account and runs `%s`",
                      "; ".join(problems) or "the books agree with the account now, the hold stays",
                      CLEAR_HINT.format(bot=self.bot))

    def _hold(self, reason: str) -> None:
        self.trader.hold(HOLD, f"on hold since an audit found: {reason} (clear with `{CLEAR_HINT.format(bot=self.bot)}`)")

    def _notice_cleared(self) -> None:
        if self.held and not self.store.meta(HOLD_KEY):
            self.trader.lift(HOLD)
            log.warning("audit hold cleared by hand: auditing the books again now")
            self.next_due = self.clock.monotonic()


def compare(booked: Decimal, view: AccountView, orders: Iterable[dict[str, object]], pair: PairInfo) -> list[str]:
    """What the books say that the account does not: more base than it holds, orders executed otherwise."""
    problems = []
    if booked > view.base:
        problems.append(f"the books hold {booked} {pair.base}, the account only {view.base}")
    for row in orders:
        status, userref = row["status"], int(row["userref"])  # type: ignore[call-overload]
        if status == "intent":
            continue  # still being looked up (recovery)
        found = view.orders.get(userref)
        executed = ZERO if found is None else found.volume_executed
        if status == "filled":
            booked_volume = _decimal(row["fill_volume"])
            if found is None:
                if view.complete:
                    problems.append(f"order userref {userref} is booked as filled but the exchange does not list it")
            elif executed != booked_volume:
                problems.append(f"order userref {userref} executed {executed} on the exchange, booked {booked_volume}")
        elif status == "failed" and executed > 0:
            problems.append(f"order userref {userref} executed {executed} on the exchange but is booked as failed")
    return problems


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return ZERO

