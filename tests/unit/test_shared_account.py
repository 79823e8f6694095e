"""The key's account read shared by its bots (issue 17): one read serves every bot whose books it saw, and an audit on
another bot's read is the audit the bot would have made itself (real state files, an in-memory account)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal as D
from itertools import count

from candlebot.clock import SimClock
from candlebot.events import BooksAudited
from candlebot.identity import BotIdentity
from candlebot.live.accountread import AccountRead, SharedAccount
from candlebot.live.audit import FIRST_WINDOW_S, Auditor
from candlebot.live.fleet import FleetBooks, HoldBoard
from candlebot.venue import Fill, Side
from tests.unit.desk import XBTUSD, Desk
from tests.unit.test_audit_books import audited

ACCOUNT = "kraken:k1"


@dataclass
class Listed:
    userref: int
    side: Side
    volume_executed: D
    status: str = "closed"

    def fill(self, pair_name: str) -> Fill:
        return Fill(f"O-{self.userref}", self.userref, pair_name, self.side, 1_700_000_000.0, D(30000),
                    self.volume_executed, D(30000) * self.volume_executed, D(0))


@dataclass
class Account:
    """The key's account; ``reads`` counts Balance reads."""

    base: D = D(0)
    orders: list[Listed] = field(default_factory=list)
    reads: int = 0
    time: float = 1_700_000_000.0

    def server_time(self) -> float:
        return self.time

    def balances(self) -> dict[str, D]:
        self.reads += 1
        return {XBTUSD.base: self.base, XBTUSD.quote: D(10000)}

    def open_orders(self, userref=None):
        return []

    def closed_orders(self, userref=None, *, start=None, ofs=None):
        return [] if ofs else list(self.orders)


class Fleet:
    """Bots on one key in one state dir, sharing ``account``'s reads."""

    def __init__(self, tmp_path, account: Account) -> None:
        self.state = tmp_path
        self.account = account
        self.clock = SimClock(1_700_000_000.0)
        self.refs = count(100)
        (tmp_path / "bots").mkdir()

    def bot(self, name: str) -> Desk:
        desk = Desk(self.state / name, "10000", max_open=3, clock=self.clock)
        desk.trader.next_userref = lambda: next(self.refs)  # one userref sequence per key, as the bots share
        desk.store.claim(name=name, bot_id=BotIdentity.from_name(name).bot_id, account=ACCOUNT)
        desk.store.bind(pair=XBTUSD.name, start_cash=D("10000"), base=XBTUSD.base)
        own = self.state / "bots" / f"{name}.sqlite"
        own.symlink_to(self.state / name / "bot.sqlite")
        return desk

    def auditor(self, name: str, desk: Desk) -> Auditor:
        """The bot's audit (from now on it sends no order until its start-up audit has compared)."""
        own = self.state / "bots" / f"{name}.sqlite"
        fleet = FleetBooks(self.state / "bots", ACCOUNT, own)
        shared = SharedAccount(self.state / "fleet", "k1", self.account, fleet, self.clock)
        return Auditor(bot=name, pair=XBTUSD, shared=shared, board=HoldBoard(self.state, "k1"), store=desk.store,
                       ledger=desk.ledger, trader=desk.trader, bus=desk.bus, clock=self.clock)

    def bought(self, desk: Desk, volume: str) -> None:
        trade = desk.trader.buy(D(volume))
        self.account.base += trade.volume
        self.account.orders.append(Listed(trade.open_fill.userref, Side.BUY, trade.volume))


def test_one_read_serves_the_fleets_start_and_a_bot_that_trades_after_it_changes_nothing(tmp_path):
    fleet = Fleet(tmp_path, Account())
    alpha, beta = fleet.bot("alpha"), fleet.bot("beta")
    fleet.bought(alpha, "0.01")  # books from an earlier run
    fleet.bought(beta, "0.02")
    alpha_audit, beta_audit = fleet.auditor("alpha", alpha), fleet.auditor("beta", beta)

    audited(alpha_audit)
    fleet.bought(alpha, "0.03")  # alpha trades after the read: beta's audit on that read must not count it
    audited(beta_audit)

    assert fleet.account.reads == 1
    assert [a.problems for a in alpha.of(BooksAudited)] == [()] and [a.problems for a in beta.of(BooksAudited)] == [()]
    assert not alpha.trader.holds and not beta.trader.holds  # the start hold lifted by each bot's own audit


def test_a_shortage_found_on_a_shared_read_holds_the_bot_and_books_changed_since_need_a_read_of_their_own(tmp_path):
    fleet = Fleet(tmp_path, Account())
    alpha, beta, gamma = fleet.bot("alpha"), fleet.bot("beta"), fleet.bot("gamma")
    fleet.bought(alpha, "0.01")
    fleet.bought(beta, "0.02")
    alpha_audit, beta_audit = fleet.auditor("alpha", alpha), fleet.auditor("beta", beta)
    fleet.account.base -= D("0.015")  # someone sold coins the fleet's books hold, by hand

    audited(alpha_audit)
    audited(beta_audit)  # on alpha's read: the same shortage, seen by beta too
    assert fleet.account.reads == 1
    assert beta_audit.held and "the account only 0.015" in beta.of(BooksAudited)[-1].problems[0]

    fleet.bought(gamma, "0.001")  # gamma's books changed after the read: it reads the account itself
    gamma_audit = fleet.auditor("gamma", gamma)
    audited(gamma_audit)
    assert fleet.account.reads == 2 and gamma_audit.held


def test_a_read_serves_no_audit_when_stale_no_newer_than_the_last_or_not_looking_back_far_enough(tmp_path):
    fleet = Fleet(tmp_path, Account())
    alpha_audit = fleet.auditor("alpha", fleet.bot("alpha"))
    beta_audit = fleet.auditor("beta", fleet.bot("beta"))
    audited(alpha_audit)
    shared = beta_audit.shared
    assert shared is not None

    def day_back(now: float) -> float:
        return now - FIRST_WINDOW_S

    assert shared.read(day_back).server_time == fleet.account.time and fleet.account.reads == 1
    assert shared.read(lambda now: now - 2 * FIRST_WINDOW_S) and fleet.account.reads == 2  # looked back too little
    shared.read(day_back, newer_than=fleet.account.time)  # the read this bot's last audit had: not new
    assert fleet.account.reads == 3
    fleet.clock.at += shared.fresh_s + 1
    shared.read(day_back)
    assert fleet.account.reads == 4
    text = shared.path.read_text()
    assert AccountRead.from_json(text).to_json() == text  # what a bot writes, another reads back whole
    shared.path.write_text(text.replace(json.loads(text)["boot"], "an earlier boot") if json.loads(text)["boot"]
                           else text.replace('"boot": ""', '"boot": "an earlier boot"'))
    shared.read(day_back)  # its monotonic time is another boot's: says nothing about now
    assert fleet.account.reads == 5

