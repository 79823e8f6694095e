"""A trader on the in-memory exchange, journaling to a real state file: what the unit layer arranges its cases on."""

from __future__ import annotations

from decimal import Decimal as D
from itertools import count
from pathlib import Path

from candlebot.clock import SimClock
from candlebot.events import EventBus
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from candlebot.live.recovery import Reconciler
from candlebot.live.store import BotStore
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.trading.protection import Protection
from candlebot.trading.trader import Trader
from tests.support.memory_exchange import MemoryExchange

XBTUSD = find_pair(offline_pairs(), "XBTUSD")  # lot 8, cost 5, price 1 decimals; ordermin 0.0001, costmin 0.5
FEE = D("0.0026")


class Desk:
    """Cash ``cash`` in the books and on the exchange; a book of one deep level each side unless the test sets one."""

    def __init__(self, folder: Path, cash: str = "1000", *, max_open: int = 1, stake: str | None = None,
                 max_slippage: str = "0.005", exchange_fee: D = FEE, account: str | None = None,
                 listen: tuple[type, ...] = (), clock: SimClock | None = None) -> None:
        """``account``: the quote the exchange account holds (default: ``cash``, all of it the bot's); ``listen``: the
        event types ``events`` collects (default: all); ``clock``: default a SimClock at 2023-11-14."""
        self.clock = clock or SimClock(1_700_000_000.0)
        self.exchange = MemoryExchange(XBTUSD, clock=self.clock, balances={XBTUSD.quote: D(account or cash)}, fee_rate=exchange_fee,
                                       bids=[("29990.0", "10")], asks=[("30000.0", "10")])
        self.ledger = Ledger(XBTUSD, D(cash))
        self.store = BotStore(folder / "bot.sqlite", now=self.clock.now, lock_timeout=0.05)
        self.store.bind(pair=XBTUSD.name, start_cash=D(cash))
        self.events: list[object] = []
        self.bus = EventBus()
        self.bus.subscribe(self.events.append, *listen)
        refs = count(1)
        self.trader = Trader(exchange=self.exchange, pair=XBTUSD, ledger=self.ledger,
                             sizing=Sizing(max_open, None if stake is None else D(stake)), fee_rate=FEE, bus=self.bus,
                             clock=self.clock, next_userref=lambda: next(refs), journal=self.store,
                             protection=Protection(XBTUSD, D(max_slippage)))

    def reconciler(self, absent_after: float = 60.0, lookup_every: float = 0.0, pending=()) -> Reconciler:
        return Reconciler(trader=self.trader, exchange=self.exchange, bus=self.bus, clock=self.clock, pending=pending,
                          absent_after=absent_after, lookup_every=lookup_every)

    def of(self, *kinds: type) -> list:
        return [e for e in self.events if isinstance(e, kinds)]

    def statuses(self) -> list[str]:
        return [row["status"] for row in self.store.orders()]
