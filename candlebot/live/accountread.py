"""The key's account as one bot read it, for every bot on the key: a fleet's start reads the account once, not once
per bot (issue 17).

An audit reads Kraken's Time, Balance, OpenOrders and ClosedOrders (3 units of the key's REST counter, which
on a starter key holds 15 and regains 0.33 a second), and around them the books of every bot on the key. Twenty
bots starting together each reading for themselves queued minutes for that budget. So the read is written
whole to ``<state_dir>/fleet/<key>-account.json`` (beside the fleet's holds), and a bot whose audit finds it
fresh uses it instead of reading again. One reader at a time (``<key>-account.lock``): the others wait for its
read and use it.

Why a read another bot made is a correct audit of this bot: it holds, as of one moment, the account and the
books of every bot on the key read just before and just after it (``candlebot.live.fleet``). A bot uses it
only when its own books are still exactly those the read saw (a digest of its orders and trades, the same
before and after the read and now): then comparing them with that read is the audit this bot would have made
itself at that moment. The other bots' books are taken from the read, not from now, so a bot that traded
since changes nothing: no false hold, no shortage missed. A bot whose books changed since (it traded, a
late order was booked) reads the account itself. Fresh means read within ``fresh_s`` on the monotonic clock
(one for every process of the machine), later than this bot's previous audit, and as far back in orders as
this audit must look, with the listing complete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable, Protocol

from candlebot.clock import Clock
from candlebot.live.fleet import EMPTY_BOOKS, Claim, FleetBooks, SeenBooks, read_books
from candlebot.live.paths import boot_id
from candlebot.live.sharedread import Stamp, one_reader
from candlebot.live.wholefile import UnreadableFile, read_json, write_json
from candlebot.money import ZERO
from candlebot.venue import Fill, Side

PAGE = 50  # Kraken's ClosedOrders page
MAX_PAGES = 4
TIME_MARGIN_S = 2.0  # Kraken's Time is whole seconds and ClosedOrders' start is exclusive
SHARE_S = 60.0  # how long a read serves the other bots' audits (and starts): a fleet starting within a minute


class Account(Protocol):
    """What a read asks of the exchange: Kraken's time, the balances, the orders (Kraken's adapter fits)."""

    def server_time(self) -> float: ...

    def balances(self) -> dict[str, Decimal]: ...

    def open_orders(self, userref: int | None = None) -> list: ...

    def closed_orders(self, userref: int | None = None, *, start: float | None = None,
                      ofs: int | None = None) -> list: ...


@dataclass(frozen=True)
class ListedOrder:
    """An order as the exchange listed it, in the form every bot of the key can read back (an ``AccountOrder``)."""

    txid: str
    userref: int | None
    status: str
    side: Side
    volume_executed: Decimal
    price: Decimal
    cost: Decimal
    fee: Decimal
    time: float

    def fill(self, pair_name: str) -> Fill:
        return Fill(order_id=self.txid, userref=self.userref or 0, pair=pair_name, side=self.side, time=self.time,
                    price=self.price, volume=self.volume_executed, cost=self.cost, fee=self.fee)

    @classmethod
    def of(cls, order: object) -> ListedOrder:
        """From an adapter's order (its ``fill`` says what it executed)."""
        fill = order.fill("")  # type: ignore[attr-defined]
        return cls(fill.order_id, order.userref, order.status, order.side,  # type: ignore[attr-defined]
                   order.volume_executed, fill.price, fill.cost, fill.fee, fill.time)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AccountRead:
    """One read of the key's account: Kraken's ``server_time`` when it began (and the monotonic ``read_at``), the
    balances, the orders by userref (closed ones from Kraken's time ``since``; ``complete``: all were listed), and
    the books of the bots on the key ``before`` and ``after`` it, by state file name."""

    server_time: float
    read_at: float
    since: float
    complete: bool
    balances: dict[str, Decimal]
    orders: dict[int, ListedOrder]
    before: dict[str, SeenBooks]
    after: dict[str, SeenBooks]
    boot: str = ""  # the machine's boot the monotonic ``read_at`` belongs to

    def saw(self, name: str, digest: str) -> bool:
        """The books in file ``name`` were ``digest`` throughout the read (a file it did not find: empty books)."""
        first, second = self.before.get(name), self.after.get(name)
        return ((first.digest if first else EMPTY_BOOKS) == (second.digest if second else EMPTY_BOOKS) == digest)

    def others(self, own: str, base: str) -> tuple[Decimal, tuple[Claim, ...]]:
        """What the bots other than file ``own`` needed of ``base`` across the read (the smaller of before and after:
        a sell sent meanwhile may have taken its coins already), and their claims."""
        total, claims = ZERO, []
        for name in sorted(self.before.keys() & self.after.keys()):  # a file that came or went meanwhile: next time
            first, second = self.before[name].claim, self.after[name].claim
            if name == own or first is None or second is None or first.base != base or second.base != base:
                continue
            total += min(first.required, second.required)
            claims.append(second)
        return total, tuple(claims)

    def to_json(self) -> str:
        return json.dumps(self.to_data())

    def to_data(self) -> dict[str, object]:
        return {
            "server_time": self.server_time, "read_at": self.read_at, "since": self.since, "complete": self.complete,
            "balances": {k: str(v) for k, v in self.balances.items()},
            "orders": [[o.txid, o.userref, o.status, o.side.value, str(o.volume_executed), str(o.price), str(o.cost),
                        str(o.fee), o.time] for o in self.orders.values()],
            "before": _books_json(self.before), "after": _books_json(self.after), "boot": self.boot}

    @classmethod
    def from_json(cls, text: str) -> AccountRead:
        return cls.from_data(json.loads(text))

    @classmethod
    def from_data(cls, data: dict) -> AccountRead:
        orders = {}
        for txid, userref, status, side, executed, price, cost, fee, time in data["orders"]:
            orders[int(userref)] = ListedOrder(str(txid), int(userref), str(status), Side(side), Decimal(executed),
                                               Decimal(price), Decimal(cost), Decimal(fee), float(time))
        return cls(float(data["server_time"]), float(data["read_at"]), float(data["since"]), bool(data["complete"]),
                   {k: Decimal(v) for k, v in data["balances"].items()}, orders, _books(data["before"]),
                   _books(data["after"]), str(data.get("boot", "")))


class SharedAccount:
    """Reads of one key's account, shared by the bots on it through ``folder`` (``<state_dir>/fleet``)."""

    def __init__(self, folder: Path, key_id: str, account: Account, fleet: FleetBooks, clock: Clock, *,
                 fresh_s: float = SHARE_S) -> None:
        self.folder = folder
        self.key_id = key_id
        self.path = folder / f"{key_id}-account.json"
        self.lock_path = folder / f"{key_id}-account.lock"
        self.account = account
        self.fleet = fleet
        self.clock = clock
        self.fresh_s = fresh_s

    def read(self, since_for: Callable[[float], float], *, newer_than: float | None = None) -> AccountRead:
        """A read fresh enough for this bot's audit, another bot's or a new one. ``since_for(server_time)``: from
        which Kraken time this audit needs the closed orders; ``newer_than``: Kraken's time of this bot's last audit.
        Waits for the key's budget (and for another bot's read in progress): call it off the poll loop."""
        with one_reader(self.lock_path):  # one reader at a time: the others then use its read
            own = read_books(self.fleet.own, self.fleet.account) if self.fleet.own.exists() else None
            shared = self._fresh(since_for, newer_than, own.digest if own is not None else EMPTY_BOOKS)
            if shared is not None:
                return shared
            made = self._read(since_for)
            write_json(self.path, made.to_data())  # whole or not at all: a reader never sees half a read
            return made

    def _fresh(self, since_for: Callable[[float], float], newer_than: float | None, digest: str) -> AccountRead | None:
        try:
            shared = AccountRead.from_data(read_json(self.path))
        except FileNotFoundError:
            return None
        except (UnreadableFile, ValueError, KeyError, TypeError, ArithmeticError):  # unreadable: read again (and replace it)
            return None
        if not Stamp(shared.read_at, shared.boot).fresh(self.clock.monotonic(), self.fresh_s):
            return None
        if newer_than is not None and shared.server_time <= newer_than:
            return None  # this bot's last audit compared it (or a later read) already
        if not shared.complete or shared.since > since_for(shared.server_time):
            return None  # it did not look as far back as this audit must
        return shared if shared.saw(self.fleet.own.name, digest) else None

    def _read(self, since_for: Callable[[float], float]) -> AccountRead:
        """The books of every bot on the key, then the account from Kraken's time on, then their books again."""
        read_at = self.clock.monotonic()
        before = self.fleet.seen()
        now = self.account.server_time()
        since = since_for(now)
        balances = self.account.balances()
        found = {o.userref: ListedOrder.of(o) for o in self.account.open_orders() if o.userref is not None}
        complete = False
        for page in range(MAX_PAGES):
            batch = self.account.closed_orders(start=since - TIME_MARGIN_S, ofs=page * PAGE if page else None)
            found.update((o.userref, ListedOrder.of(o)) for o in batch if o.userref is not None and o.userref not in found)
            if len(batch) < PAGE:
                complete = True
                break
        return AccountRead(now, read_at, since, complete, dict(balances), found, before, self.fleet.seen(), boot_id())


def _books_json(books: dict[str, SeenBooks]) -> dict[str, object]:
    return {name: {"digest": seen.digest, "claim": None if seen.claim is None else [
        seen.claim.bot, seen.claim.base, str(seen.claim.held), str(seen.claim.selling)]} for name, seen in books.items()}


def _books(data: dict[str, dict]) -> dict[str, SeenBooks]:
    found = {}
    for name, seen in data.items():
        claim = seen["claim"]
        found[name] = SeenBooks(None if claim is None else Claim(str(claim[0]), str(claim[1]), Decimal(claim[2]),
                                                                 Decimal(claim[3])), str(seen["digest"]))
    return found

