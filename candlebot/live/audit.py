"""The books against the account (live): the fleet's coins against the balance, orders against the exchange's.

    every poll: fleet holds set by another bot? -> hold at once, audit now
                poll() -> due and no order unsettled? -> snapshot the books (bot thread)
                       -> read (a worker thread, never the poll loop): the bots' books, Kraken's Time, Balance,
                          OpenOrders, ClosedOrders since a Kraken time, the bots' books again; or another bot's
                          read of the key's account, fresh, that saw this bot's books as they are
                          (``candlebot.live.accountread``)
                       -> compare (bot thread), unless something was booked meanwhile (then again at once)

The poll loop never waits for an audit, the first one included: a fleet starting on one key polls at once.
Orders do: until the start-up audit has compared the books with the account, the bot sends no order at all
(the ``start`` hold), so nothing is ever sent on books nobody checked.

Bots on one API key share a state dir and one account, so every audit adds up the books of all of them
(``candlebot.live.fleet``) for the asset it trades: one bot's coins never hide another's shortage. Coins
beyond the fleet's books are the person's own and fine.

Two kinds of hold; a held bot sends no order at all, closes included (a sale could only spend coins that
are not the bot's), keeps polling, and says so once (log, Slack, ``candlebot.audit.hold``, ``candlebot status``):

- **shortage** (the account holds less than the fleet's books): every bot on the key holds. It lifts by
  itself when an audit sees the account cover the books again: put the coins back, or take a trade off the
  books (``candlebot-ledger --name BOT --write-off TRADE_ID``, with that bot stopped).
- **orders** (an order the exchange executed otherwise than booked): this bot holds until a person has
  looked (``candlebot-ledger --name BOT --clear-hold``); the account cannot show such books right.

Orders are asked for and compared by Kraken's clock (its ``Time``, the orders' own close times), never
the local one: a local clock ahead of Kraken's made orders booked as filled look unlisted (issue 17).
An order booked as failed (declared never placed when the reconcile window ended) that the exchange
lists as executed after all is booked as recovered, and alerted. Until then no second order is sent: a
declared-absent order makes the bot audit before its next order (``recheck``); a sell that executed
leaves the account short (a shortage), a buy that did leaves more coins beyond the fleet's books than
the audit before it saw (the bot holds until it is listed, or a person clears it).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterable, Protocol

from candlebot.clock import Clock
from candlebot.events import BooksAudited, BotError, EventBus
from candlebot.live.accountread import TIME_MARGIN_S, SharedAccount
from candlebot.live.fleet import Claim, FleetHold, HoldBoard
from candlebot.venue import Fill, OrderRequest, Side
from candlebot.trading.ledger import Ledger
from candlebot.money import ZERO
from candlebot.pair import PairInfo
from candlebot.trading.trader import Trader

log = logging.getLogger(__name__)

HOLD_KEY = "audit_hold"  # meta: an order mismatch, lifted by a person
FLEET_HOLD_KEY = "fleet_hold"  # meta: a shortage of the key's account, lifted by an audit
CLEARED_KEY = "hold_cleared"  # meta: set by --clear-hold, read (and removed) by the running bot
HOLD = "audit"  # the trader's holds this module sets
FLEET_HOLD = "fleet"
RECHECK = "recheck"
START = "start"
START_REASON = "the books are not compared with the account yet (the start-up audit is reading it)"
CLEAR_HINT = "candlebot-ledger --name {bot} --clear-hold"
WRITE_OFF_HINT = "candlebot-ledger --name BOT --write-off TRADE_ID"
SHORTAGE_HINT = (f"put the coins back on the account, or take a trade whose coins are gone off its bot's books with "
                 f"`{WRITE_OFF_HINT}` (stop that bot first); the hold lifts by itself at the next audit that sees the "
                 "account cover the books")
FIRST_WINDOW_S = 86_400.0  # the first audit (and every audit during a shortage) looks at a day of orders
LOOKBACK_S = 3_600.0  # later ones at least an hour back: an order booked as failed can appear late


class AccountOrder(Protocol):
    userref: int | None
    status: str
    side: Side
    volume_executed: Decimal

    def fill(self, pair_name: str) -> Fill: ...


class AuditStore(Protocol):
    """The bot's state file as an audit needs it (``candlebot.live.store.BotStore`` fits)."""

    @property
    def changes(self) -> int: ...

    def meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def delete_meta(self, key: str) -> None: ...

    def orders(self) -> list[dict[str, object]]: ...


@dataclass(frozen=True)
class AccountView:
    """One read of the account. ``since``: Kraken's time from which every closed order was asked for;
    ``complete``: all of them were listed; ``server_time``: Kraken's time when the read began;
    ``others``: what the other bots on the key need of the base (their books, across the read)."""

    base: Decimal
    orders: dict[int, AccountOrder]
    since: float
    complete: bool
    server_time: float = 0.0
    others: Decimal = ZERO
    claims: tuple[Claim, ...] = ()
    balances: dict[str, Decimal] | None = None  # every asset's, when the read was shared (a venue's first balances)
    read_at: float = 0.0  # the monotonic time of the read


@dataclass(frozen=True)
class Findings:
    shortage: str | None
    mismatches: tuple[str, ...]

    @property
    def problems(self) -> tuple[str, ...]:
        return ((self.shortage,) if self.shortage else ()) + self.mismatches


@dataclass(frozen=True)
class _Snapshot:
    changes: int
    booked: Decimal
    orders: tuple[dict[str, object], ...]


class _Read:
    """The account read of one audit, on a worker thread."""

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
    """Audits one live bot's books (with its fleet's); ``poll()`` from the bot's loop, never blocking it.
    ``shared``: the key's account reads, shared by its bots (a bot alone on its key is a fleet of one: the same
    reads, the same comparison); ``board``: the key's shortage holds; ``started(balances, read_at)``: told the
    start-up audit's account read (the venue's first balances: no second read for them)."""

    def __init__(
        self, *, bot: str, pair: PairInfo, shared: SharedAccount, board: HoldBoard, store: AuditStore, ledger: Ledger,
        trader: Trader, bus: EventBus, clock: Clock, interval_s: float = 600.0, retry_s: float = 30.0,
        started: Callable[[dict[str, Decimal], float], None] | None = None,
    ) -> None:
        self.bot = bot
        self.pair = pair
        self.store = store
        self.ledger = ledger
        self.trader = trader
        self.bus = bus
        self.clock = clock
        self.board = board
        self.shared = shared
        self.started = started
        self.interval_s = interval_s
        self.retry_s = min(retry_s, interval_s)
        self.audits = 0
        self.attempts = 0
        self.next_due = clock.monotonic()  # schedules on the monotonic clock; look-backs by Kraken's
        self._last_read: float | None = None  # Kraken's time of the last compared read
        self._surplus: Decimal | None = None  # the account's base beyond the fleet's books at the last audit
        self._suspects: dict[int, tuple[Side, Decimal | None]] = {}  # declared never placed: side, surplus before
        self._unbookable: set[int] = set()  # found late but not bookable: left to the comparison (a mismatch)
        self._read: _Read | None = None
        self._snapshot: _Snapshot | None = None
        self._reported: tuple[tuple[str, ...], bool] = ((), False)  # what the last alert said: problems, held
        stored = store.meta(HOLD_KEY)
        if stored:
            self._hold(stored)
        shortage = store.meta(FLEET_HOLD_KEY)
        if shortage:
            self._hold_fleet(shortage)
        self._reported = ((), self.held)
        self.trader.hold(START, START_REASON)  # lifted by the first audit that compares

    @property
    def held(self) -> bool:
        return HOLD in self.trader.holds or FLEET_HOLD in self.trader.holds

    def recheck(self, order: OrderRequest) -> None:
        """``order`` was declared never placed: no order until an audit has compared the books with the account.
        A sell that executed after all leaves the fleet short (a shortage hold). A buy that did leaves more coins
        than at the last audit beyond the fleet's books: the hold then stays until Kraken lists it (booked as
        recovered) or the surplus is gone; a person who added coins meanwhile clears it (``--clear-hold``)."""
        self._suspects[order.userref] = (order.side, self._surplus)
        self.trader.hold(RECHECK, f"order userref {order.userref} was declared never placed; no order until an audit "
                                  "has checked the account")
        self.next_due = min(self.next_due, self.clock.monotonic())

    def poll(self) -> None:
        """Follow the fleet's holds; finish an audit whose read is done, start one when due (its read on a worker
        thread: the poll never waits for it)."""
        self._notice_cleared()
        self._follow_board()
        if self._read is not None:
            if not self._read.done:
                return
            self._finish()
        if self.clock.monotonic() < self.next_due or self.trader.unsettled:
            return  # an order whose outcome is unknown is settled first: the books are not final before
        self._start()

    def _start(self) -> None:
        self._snapshot = _Snapshot(self.store.changes, self.ledger.position, tuple(self.store.orders()))
        last, wide = self._last_read, FLEET_HOLD in self.trader.holds
        self._read = _Read(lambda: self.read_account(last, wide))
        self.attempts += 1
        self._read.start()

    @property
    def reading(self) -> bool:
        """An audit's account read is in flight, or done and not compared yet (the next ``poll`` compares it)."""
        return self._read is not None

    def join(self, timeout: float | None = None) -> None:
        """Wait for the account read in flight, if any (tests step an audit with it; the bot's loop never waits)."""
        if self._read is not None and self._read.thread is not None:
            self._read.thread.join(timeout)

    def read_account(self, last: float | None, wide: bool = False) -> AccountView:
        """The key's account from Kraken's time ``last`` (less the look-back), with the books of every bot on the key
        before and after it (``SharedAccount``: another bot's read when it is fresh and saw these books);
        ``last`` None or ``wide`` (a shortage: a late order may be what is missing): a day back."""

        def since_for(now: float) -> float:
            return now - FIRST_WINDOW_S if last is None or wide else min(last, now) - max(self.interval_s, LOOKBACK_S)

        read = self.shared.read(since_for, newer_than=last)
        others, claims = read.others(self.shared.fleet.own.name, self.pair.base)
        return AccountView(read.balances.get(self.pair.base, ZERO), dict(read.orders), read.since, read.complete,
                           read.server_time, others, claims, read.balances, read.read_at)

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
        view = read.view
        assert view is not None
        if self._recover(late_orders(view, snapshot.orders)):
            self.next_due = due  # the books changed: compare them again at once (before the first, the start hold stays)
            return
        findings = compare(snapshot.booked, view, snapshot.orders, self.pair)
        self.audits += 1
        if self.audits == 1:
            if self.started is not None and view.balances is not None:
                self.started(view.balances, view.read_at)  # before any order: no order was sent since the read
            self.trader.lift(START)
        self._last_read = view.server_time
        self.next_due = due + self.interval_s
        if findings.mismatches and HOLD not in self.trader.holds:
            reason = _summary(findings.mismatches)
            self.store.set_meta(HOLD_KEY, reason)
            self._hold(reason)
        if findings.shortage is not None:
            self.board.set(FleetHold(self.pair.base, findings.shortage, view.server_time))
            self._hold_fleet(findings.shortage)
        else:
            lifted = self.board.lift(self.pair.base, view.server_time)
            if lifted is not None:
                log.warning("audit: the account covers the books of the bots on this key again: fleet hold on %s "
                            "lifted", lifted.asset)
            if not self.board.holds():
                self._lift_fleet()
        self._check_suspects(view.base - snapshot.booked - view.others)
        self._report(snapshot.booked, view, findings)

    def _check_suspects(self, surplus: Decimal) -> None:
        """Orders declared never placed: a sell is the shortage check's; a buy is suspect while the account holds
        more beyond the books than before it (its coins, not listed yet)."""
        for userref, (side, before) in list(self._suspects.items()):
            if side is Side.SELL or before is None or surplus <= before:
                del self._suspects[userref]
        self._surplus = surplus
        if not self._suspects:
            self.trader.lift(RECHECK)
            return
        refs = ", ".join(str(ref) for ref in self._suspects)
        reason = (f"the account holds {surplus} {self.pair.base} beyond the books of the bots on this key, more than "
                  f"before order(s) {refs}, declared never placed: probably executed and not listed yet")
        if RECHECK not in self.trader.holds or self.trader.holds[RECHECK] != reason:
            log.error("audit: %s; no order until Kraken lists it (it is then booked as recovered) or a person who "
                      "added coins meanwhile runs `%s`", reason, CLEAR_HINT.format(bot=self.bot))
        self.trader.hold(RECHECK, reason)

    def _report(self, booked: Decimal, view: AccountView, findings: Findings) -> None:
        now, problems = self.clock.now(), findings.problems
        state = (problems, self.held)
        changed, self._reported = state != self._reported, state
        self.bus.emit(BooksAudited(now, booked, view.base, problems, self.held, changed))
        if not problems and not self.held:
            if changed or self.audits == 1:
                log.info("audit: the books agree with the account (%s %s booked by this bot, %s by the other bots on "
                         "the key, %s held)", booked, self.pair.base, view.others, view.base)
            return
        if not changed:
            return  # said once; the metric keeps saying it
        steps = []
        if findings.shortage is not None or FLEET_HOLD in self.trader.holds:
            steps.append(SHORTAGE_HINT)
        if HOLD in self.trader.holds:
            steps.append(f"check the orders on the account, then run `{CLEAR_HINT.format(bot=self.bot)}`")
        log.error("audit: %s; no order of any kind is sent (closes included). To lift the hold: %s",
                  "; ".join(problems) or "the books agree with the account now, the hold stays", "; or ".join(steps))

    def _recover(self, late: list[tuple[dict[str, object], AccountOrder]]) -> bool:
        """Book every order booked as failed that the exchange executed after all; True when any was booked."""
        booked = False
        for row, found in late:
            if int(row["userref"]) in self._unbookable:  # type: ignore[call-overload]
                continue  # tried once: an order mismatch a person must look at
            order = OrderRequest(str(row["pair"]), Side(str(row["side"])), _decimal(row["volume"]),
                                 int(row["userref"]),  # type: ignore[call-overload]
                                 None if row.get("limit_price") is None else _decimal(row["limit_price"]))
            trade_id = None if row.get("trade_id") is None else int(row["trade_id"])  # type: ignore[call-overload]
            fill = found.fill(self.pair.name)
            if self.trader.book(order, fill, trade_id, recovered=True) is None:
                self._unbookable.add(order.userref)  # e.g. a sell for a trade closed meanwhile: compared, held
                continue
            self._suspects.pop(order.userref, None)
            booked = True
            message = (f"order userref {order.userref} ({order.side.value} {fill.volume} {self.pair.base}), booked as "
                       f"never placed, was executed on the exchange after all: booked as recovered")
            log.warning("audit: %s", message)
            self.bus.emit(BotError(self.clock.now(), "recovered", message))
        if booked and not self._suspects:
            self.trader.lift(RECHECK)
        return booked

    def _hold(self, reason: str) -> None:
        self.trader.hold(HOLD, f"on hold since an audit found: {reason} (clear with `{CLEAR_HINT.format(bot=self.bot)}` "
                               "once the account is checked)")

    def _hold_fleet(self, reason: str) -> None:
        if self.store.meta(FLEET_HOLD_KEY) != reason:
            self.store.set_meta(FLEET_HOLD_KEY, reason)
        self.trader.hold(FLEET_HOLD, f"on hold since an audit found: {reason}; {SHORTAGE_HINT}")

    def _lift_fleet(self) -> None:
        if FLEET_HOLD in self.trader.holds or self.store.meta(FLEET_HOLD_KEY):
            self.trader.lift(FLEET_HOLD)
            self.store.delete_meta(FLEET_HOLD_KEY)
            log.warning("audit: the account covers the books again: hold lifted, trading resumes")

    def _follow_board(self) -> None:
        """Another bot's audit held (or freed) the key's account: follow at once, and audit to see for ourselves."""
        holds = self.board.holds()
        if holds and FLEET_HOLD not in self.trader.holds:
            self._hold_fleet("; ".join(f"{h.reason}" for h in holds))
            log.error("audit: another bot on this key found the account short (%s): no order is sent until an audit "
                      "sees the account cover the books", "; ".join(h.reason for h in holds))
            self.next_due = min(self.next_due, self.clock.monotonic())
        elif not holds and FLEET_HOLD in self.trader.holds and self._read is None:
            self._lift_fleet()
            self.next_due = min(self.next_due, self.clock.monotonic())

    def _notice_cleared(self) -> None:
        if self.store.meta(CLEARED_KEY):
            self.store.delete_meta(CLEARED_KEY)
            if self._suspects:  # a person looked: the surplus is theirs
                self._suspects.clear()
                self.trader.lift(RECHECK)
                log.warning("hold on order(s) declared never placed cleared by hand")
        if HOLD in self.trader.holds and not self.store.meta(HOLD_KEY):
            self.trader.lift(HOLD)
            log.warning("audit hold cleared by hand: auditing the books again now")
            self.next_due = self.clock.monotonic()


def late_orders(view: AccountView, orders: Iterable[dict[str, object]]) -> list[tuple[dict[str, object], AccountOrder]]:
    """Orders booked as failed that the exchange lists as settled with an execution: found late."""
    late = []
    for row in orders:
        if row["status"] != "failed":
            continue
        found = view.orders.get(int(row["userref"]))  # type: ignore[call-overload]
        if found is not None and found.volume_executed > 0 and found.status in ("closed", "canceled", "expired"):
            late.append((row, found))
    return late


def compare(booked: Decimal, view: AccountView, orders: Iterable[dict[str, object]], pair: PairInfo) -> Findings:
    """What the books say that the account does not: more base than it holds (the fleet's books together),
    orders executed otherwise than booked. Times are Kraken's: a filled order's ``fill_time`` is its close time."""
    shortage = None
    if booked + view.others > view.base:
        if view.claims or view.others:
            others = ", ".join(f"{c.bot} {c.required}" for c in view.claims if c.required)
            shortage = (f"the books of the bots on this key hold {booked + view.others} {pair.base} (this bot {booked}"
                        f"{', ' + others if others else ''}), the account only {view.base}")
        else:
            shortage = f"the books hold {booked} {pair.base}, the account only {view.base}"
    mismatches = []
    for row in orders:
        status, userref = row["status"], int(row["userref"])  # type: ignore[call-overload]
        if status == "intent":
            continue  # still being looked up (recovery)
        found = view.orders.get(userref)
        executed = ZERO if found is None else found.volume_executed
        if status == "filled":
            booked_volume = _decimal(row["fill_volume"])
            if found is None:
                closed_at = row.get("fill_time")
                listed_since = closed_at is not None and float(closed_at) > view.since + TIME_MARGIN_S  # type: ignore[arg-type]
                if view.complete and listed_since:
                    mismatches.append(f"order userref {userref} is booked as filled but the exchange does not list it")
            elif executed != booked_volume:
                mismatches.append(f"order userref {userref} executed {executed} on the exchange, booked {booked_volume}")
        elif status == "failed" and executed > 0:
            mismatches.append(f"order userref {userref} executed {executed} on the exchange but is booked as failed")
    return Findings(shortage, tuple(mismatches))


def _summary(problems: tuple[str, ...]) -> str:
    return f"{problems[0]}{f' (and {len(problems) - 1} more)' if len(problems) > 1 else ''}"


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return ZERO
