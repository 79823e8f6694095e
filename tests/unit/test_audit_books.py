"""The audit of the books against the account, in process: a real state file, ledger and trader over a
backtest exchange, and an in-memory account standing in for Kraken's (the real one: tests/runtime/test_audit.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal as D
from itertools import count
from pathlib import Path

from candlebot.cli import ledger as ledger_cli
from candlebot.live.accountread import SharedAccount
from candlebot.live.audit import FLEET_HOLD_KEY, HOLD_KEY, Auditor
from candlebot.live.fleet import FleetBooks, HoldBoard
from candlebot.chart import Chart
from candlebot.errors import OrderRejected
from candlebot.events import BooksAudited, EventBus, OrderSkipped, TradeClosed, TradeOpened
from candlebot.venue import Fill, OrderRequest, Side
from candlebot.identity import BotIdentity
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.live.recovery import Reconciler
from candlebot.live.store import BotStore
from candlebot.trading.trader import Trader
from candlebot.exchanges.backtest import BacktestExchange, CandleClock
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs

XBTUSD = find_pair(offline_pairs(), "XBTUSD")
ACCOUNT = "kraken:k1"


@dataclass
class Order:
    userref: int | None
    status: str
    side: Side
    volume_executed: D
    price: D = D(30000)

    def fill(self, pair_name: str) -> Fill:
        cost = XBTUSD.round_cost(self.price * self.volume_executed)
        return Fill(f"O-{self.userref}", self.userref or 0, pair_name, self.side, 60.0, self.price, self.volume_executed,
                    cost, XBTUSD.round_cost(cost * D("0.0026")))


@dataclass
class FakeAccount:
    """Kraken's account as the audit reads it; ``gate`` holds a read back until the test lets it go."""

    base: D = D(0)
    orders: list[Order] = field(default_factory=list)
    gate: threading.Event | None = None
    reads: int = 0
    time: float = 1200.0  # Kraken's clock: near the candles' (the fills' times)

    def server_time(self) -> float:
        return self.time

    def balances(self) -> dict[str, D]:
        self.reads += 1
        if self.gate is not None:
            assert self.gate.wait(5)
        return {XBTUSD.base: self.base, XBTUSD.quote: D(1000)}

    def open_orders(self, userref=None):
        return [o for o in self.orders if o.status == "open"]

    def closed_orders(self, userref=None, *, start=None, ofs=None):
        return [] if ofs else [o for o in self.orders if o.status != "open"]


class Bot:
    """A trader journaling to a real state file, over a backtest exchange of flat candles."""

    def __init__(self, folder: Path, account: FakeAccount) -> None:
        self.chart = Chart("XBTUSD", 60)
        for k in range(20):
            self.chart.update(30000.0, 1.0, 60 * k)
        self.chart.close_forming()
        self.clock = CandleClock(self.chart)
        self.path = folder / "bots" / f"{BotIdentity.from_name('bot').label}.sqlite"
        self.store = BotStore(self.path, now=self.clock.now)
        self.store.claim(name="bot", bot_id=BotIdentity.from_name("bot").bot_id, account=ACCOUNT)
        self.store.bind(pair=XBTUSD.name, start_cash=D(1000))
        self.exchange = BacktestExchange(self.chart, XBTUSD, self.clock, cash=D(1000), fee_rate=D("0.0026"))
        self.ledger = Ledger(XBTUSD, D(1000))
        self.events: list = []
        self.bus = EventBus()
        self.bus.subscribe(self.events.append)
        refs = count(100)
        self.trader = Trader(exchange=self.exchange, pair=XBTUSD, ledger=self.ledger, sizing=Sizing(3, D(100)),
                             fee_rate=D("0.0026"), bus=self.bus, clock=self.clock, next_userref=lambda: next(refs),
                             journal=self.store)
        self.account = account
        self.state = folder

    def auditor(self) -> Auditor:
        """The bot's audit: alone on its key, a fleet of one (its reads shared with nobody, the same path)."""
        shared = SharedAccount(self.state / "fleet", "k1", self.account,
                               FleetBooks(self.path.parent, ACCOUNT, self.path), self.clock)
        return Auditor(bot="bot", pair=XBTUSD, shared=shared, board=HoldBoard(self.state, "k1"), store=self.store,
                       ledger=self.ledger, trader=self.trader, bus=self.bus, clock=self.clock, interval_s=600)

    def audits(self) -> list[BooksAudited]:
        return [e for e in self.events if isinstance(e, BooksAudited)]

    def buy(self, i: int):
        self.clock.index = i
        return self.trader.buy()


def audited(auditor: Auditor) -> None:
    """Poll until the audit the poll starts is compared: its read runs on a worker thread, the next poll compares
    (a read that booked a late order, or that a booking raced, is followed by another)."""
    auditor.poll()
    while auditor.reading:
        auditor.join(5)
        auditor.poll()


def filled(trade) -> Order:
    return Order(trade.open_fill.userref, "closed", Side.BUY, trade.volume)


def test_books_that_agree_with_the_account_let_the_bot_trade(tmp_path: Path) -> None:
    bot = Bot(tmp_path, FakeAccount())
    trade = bot.buy(0)
    bot.account.base, bot.account.orders = trade.volume, [filled(trade)]
    auditor = bot.auditor()

    assert bot.buy(1) is None and "start-up audit" in bot.trader.holds["start"]  # no order on unchecked books
    auditor.poll()  # the first audit reads on a worker thread: the poll returns at once
    assert auditor.reading and bot.buy(1) is None
    audited(auditor)

    assert [(a.problems, a.held, a.booked_volume, a.account_volume) for a in bot.audits()] == [((), False, trade.volume, trade.volume)]
    assert bot.buy(1) is not None


def test_books_that_claim_more_than_the_account_hold_every_order_until_the_account_covers_them(tmp_path: Path) -> None:
    bot = Bot(tmp_path, FakeAccount())
    first, second = bot.buy(0), bot.buy(1)
    bot.account.base = first.volume  # someone sold the second trade's coins by hand
    bot.account.orders = [filled(first), filled(second)]
    auditor = bot.auditor()

    audited(auditor)

    audit = bot.audits()[-1]
    assert audit.held and audit.problems == (f"the books hold {first.volume + second.volume} XXBT, the account only {first.volume}",)
    assert bot.buy(2) is None  # no new trade ...
    skipped = [e for e in bot.events if isinstance(e, OrderSkipped)][-1]
    assert skipped.side is Side.BUY and "on hold since an audit found: the books hold" in skipped.reason
    assert "put the coins back" in skipped.reason and "candlebot-ledger --name BOT --write-off TRADE_ID" in skipped.reason
    bot.clock.index = 2
    assert bot.trader.close(first) is None  # ... and no close either: it could sell coins that are not the bot's
    skipped = [e for e in bot.events if isinstance(e, OrderSkipped)][-1]
    assert skipped.side is Side.SELL and "on hold since an audit found" in skipped.reason
    assert bot.store.meta(FLEET_HOLD_KEY) and not bot.store.meta(HOLD_KEY)

    restarted = bot.auditor()  # a restart does not lift the hold
    assert restarted.held and bot.buy(3) is None

    bot.account.base = first.volume + second.volume  # a person puts the coins back: the next audit lifts the hold
    restarted.next_due = bot.clock.now()
    audited(restarted)
    assert not restarted.held and bot.audits()[-1].problems == () and bot.audits()[-1].changed
    assert not bot.store.meta(FLEET_HOLD_KEY)
    assert bot.buy(4) is not None


def test_orders_the_exchange_executed_otherwise_are_problems(tmp_path: Path) -> None:
    bot = Bot(tmp_path, FakeAccount())
    trade = bot.buy(0)
    bot.store.intent(OrderRequest(XBTUSD.name, Side.BUY, D("0.002"), 7), None)
    bot.store.failed(OrderRequest(XBTUSD.name, Side.BUY, D("0.002"), 7), OrderRejected("EOrder:Insufficient funds"))
    bot.account.base = trade.volume + D("0.002")
    bot.account.orders = [Order(trade.open_fill.userref, "closed", Side.BUY, trade.volume - D("0.001")),
                          Order(7, "closed", Side.BUY, D("0.002")), Order(555, "closed", Side.SELL, D(1))]  # 555: not ours

    audited(bot.auditor())

    # order 7, booked as failed, executed after all: booked as recovered (and alerted), then compared
    assert [(type(e).__name__, e.recovered) for e in bot.events if isinstance(e, TradeOpened)][-1] == ("TradeOpened", True)
    assert bot.store.orders()[-1]["status"] == "filled"
    assert set(bot.audits()[-1].problems) == {
        f"order userref {trade.open_fill.userref} executed {trade.volume - D('0.001')} on the exchange, booked {trade.volume}",
    }
    assert bot.store.meta(HOLD_KEY) and bot.trader.close(bot.ledger.open_trades[0]) is None

    bot.store.delete_meta(HOLD_KEY)
    bot.account.orders = []  # a complete listing without the booked fill
    bot.clock.index = 2  # two minutes on: the first read no longer serves a (restarted) bot's audit
    audited(bot.auditor())
    assert f"order userref {trade.open_fill.userref} is booked as filled but the exchange does not list it" in bot.audits()[-1].problems


def test_later_audits_read_off_the_bot_thread_and_drop_a_read_raced_by_a_booking(tmp_path: Path) -> None:
    bot = Bot(tmp_path, FakeAccount())
    auditor = bot.auditor()
    audited(auditor)  # the start-up audit
    assert len(bot.audits()) == 1
    bot.account.gate = threading.Event()
    auditor.next_due = bot.clock.now()

    auditor.poll()  # starts a read on a worker thread and returns at once
    assert len(bot.audits()) == 1 and auditor.reading and not auditor._read.done  # the read waits at the gate
    trade = bot.buy(0)  # booked while the account is being read: the read may be from before or after it
    bot.account.base, bot.account.orders = trade.volume, [filled(trade)]
    bot.account.gate.set()
    auditor.join(5)
    auditor.poll()  # the stale read is dropped and a new one starts
    assert len(bot.audits()) == 1
    auditor.join(5)
    auditor.poll()
    assert len(bot.audits()) == 2 and bot.audits()[-1].problems == () and bot.audits()[-1].booked_volume == trade.volume


def test_no_audit_while_an_order_is_unsettled(tmp_path: Path) -> None:
    bot = Bot(tmp_path, FakeAccount())
    order = OrderRequest(XBTUSD.name, Side.BUY, D("0.001"), 9)
    bot.store.intent(order, None)
    bot.clock.index = 0
    bot.exchange.place_market_order(order)  # executed, its reply lost: the account holds it, the books not yet
    bot.account.base, bot.account.orders = D("0.001"), [Order(9, "closed", Side.BUY, D("0.001"))]
    reconciler = Reconciler(trader=bot.trader, exchange=bot.exchange, bus=bot.bus,
                            clock=bot.clock, pending=bot.store.load().pending, absent_after=0)
    auditor = bot.auditor()
    auditor.poll()
    assert bot.account.reads == 0 and not bot.audits()

    assert reconciler.settle()
    audited(auditor)
    assert bot.audits()[-1].problems == ()
    recovered = [e for e in bot.events if isinstance(e, (TradeOpened, TradeClosed))]
    assert [(type(e).__name__, e.recovered) for e in recovered] == [("TradeOpened", True)]


def test_trades_from_the_order_reply_are_not_marked_recovered(tmp_path: Path) -> None:
    bot = Bot(tmp_path, FakeAccount())
    bot.clock.index = 0
    trade = bot.trader.buy(D("0.001"))
    bot.clock.index = 1
    bot.trader.close(trade)
    assert [e.recovered for e in bot.events if isinstance(e, (TradeOpened, TradeClosed))] == [False, False]


def test_a_buy_declared_never_placed_whose_coins_show_up_holds_until_it_is_listed_and_booked(tmp_path: Path) -> None:
    """Issue 17 item 5, the buy side: an executed buy adds coins beyond the books (not a shortage); the bot must not
    buy again on the belief that its order was never placed."""
    bot = Bot(tmp_path, FakeAccount())
    auditor = bot.auditor()
    audited(auditor)  # the surplus before the order: none
    order = OrderRequest(XBTUSD.name, Side.BUY, D("0.002"), 77, D(30000))
    bot.store.intent(order, None)
    bot.trader.never_placed(order, "absent at the end of the reconcile window")
    auditor.recheck(order)
    assert bot.buy(1) is None  # nothing until the account is checked

    bot.account.base = D("0.002")  # it executed: its coins are on the account, the order not listed yet
    auditor.next_due = bot.clock.now()
    audited(auditor)
    assert bot.buy(2) is None and "probably executed and not listed yet" in bot.trader.holds["recheck"]

    bot.account.orders = [Order(77, "closed", Side.BUY, D("0.002"))]  # Kraken lists it
    auditor.next_due = bot.clock.now()
    audited(auditor)
    assert [e.recovered for e in bot.events if isinstance(e, TradeOpened)] == [True]
    assert not bot.trader.holds and bot.ledger.position == D("0.002")
    assert bot.buy(3) is not None


def test_a_buy_declared_never_placed_that_left_no_coins_lets_the_bot_trade_after_one_audit(tmp_path: Path) -> None:
    bot = Bot(tmp_path, FakeAccount())
    auditor = bot.auditor()
    audited(auditor)
    order = OrderRequest(XBTUSD.name, Side.BUY, D("0.002"), 78, D(30000))
    bot.store.intent(order, None)
    bot.trader.never_placed(order, "absent at the end of the reconcile window")
    auditor.recheck(order)
    auditor.next_due = bot.clock.now()
    audited(auditor)
    assert not bot.trader.holds and bot.buy(1) is not None


def test_a_late_sell_whose_trade_was_closed_meanwhile_is_a_mismatch_tried_once(tmp_path: Path) -> None:
    bot = Bot(tmp_path, FakeAccount())
    trade = bot.buy(0)
    bot.clock.index = 1
    closed = bot.trader.close(trade)
    lost = OrderRequest(XBTUSD.name, Side.SELL, trade.volume, 55, D(29000))  # an earlier sell of the same trade
    bot.store.intent(lost, trade.trade_id)
    bot.store.failed(lost, OrderRejected("absent at the end of the reconcile window"))
    bot.account.orders = [filled(trade), Order(closed.close_fill.userref, "closed", Side.SELL, trade.volume),
                          Order(55, "closed", Side.SELL, trade.volume)]
    auditor = bot.auditor()
    audited(auditor)
    assert "order userref 55 executed" in bot.store.meta(HOLD_KEY)
    errors = len(bot.events)
    auditor.next_due = bot.clock.now()
    audited(auditor)
    assert not [e for e in bot.events[errors:] if isinstance(e, TradeClosed)]  # not booked again, nor tried again
