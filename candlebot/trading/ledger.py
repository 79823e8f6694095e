"""The bot's books: cash, open and closed trades, and the sizing rule for new ones.

Every amount is Decimal at the pair's decimals and comes from a fill the
exchange reported, so the books can be checked against the exchange line by line.
Partial fills are ordinary: a partial buy opens a trade of what executed, a
partial sell splits its trade into a closed part and an open remainder. A
trade too small to sell (below the pair's ordermin/costmin at its entry price)
is ``dust``: still held and counted in the position, never offered to the
strategy again. Cash never goes below zero: booking a fill that would take it
there raises ``BooksInvariantError`` (a bug: the bot stops, nothing is booked).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from candlebot.errors import BooksInvariantError
from candlebot.venue import Fill, Side
from candlebot.money import ZERO
from candlebot.pair import PairInfo
from candlebot.trade import BotTrade


@dataclass(frozen=True, slots=True)
class Sizing:
    """How much quote a new trade commits: a fixed ``stake``, or an equal share of the cash over free slots."""

    max_open: int
    stake: Decimal | None = None

    def commit(self, cash: Decimal, open_trades: int) -> Decimal:
        if self.stake is not None:
            return self.stake
        free_slots = self.max_open - open_trades
        return cash / free_slots if free_slots > 0 else ZERO


@dataclass(frozen=True, slots=True)
class Closing:
    """What booking a sell did: the closed trade (or part), and the open remainder when the sell was partial."""

    closed: BotTrade
    remainder: BotTrade | None = None


class Ledger:
    """Open and closed trades plus the quote cash they leave; books fills, never prices."""

    def __init__(self, pair: PairInfo, cash: Decimal) -> None:
        if cash < 0:
            raise ValueError("cash must be >= 0")
        self.pair = pair
        self.start_cash = cash
        self.cash = cash
        self.open_trades: list[BotTrade] = []
        self.closed_trades: list[BotTrade] = []
        self.dust: list[BotTrade] = []
        self.changes = 0  # bumped by every booking: strategies' snapshots are taken again only then
        self._next_id = 1

    def volume_for(self, commit: Decimal, price: Decimal, fee_rate: Decimal) -> Decimal:
        """floor(commit / (price * (1 + fee))) to the lot decimals, so that the order plus its fee fit in ``commit``.

        Cost and fee are rounded to the cost decimals (the fee upwards), which can
        tip cost + fee a last digit over ``commit``; then one lot step less.
        """
        if commit <= 0 or price <= 0:
            return ZERO
        pair = self.pair
        unit = price * (1 + fee_rate)
        volume = pair.floor_volume(commit / unit)
        while volume > 0:
            cost = pair.cost(price, volume)
            excess = cost + pair.fee(cost, fee_rate) - commit
            if excess <= 0:
                break
            lots = max(1, int(-(-excess // (unit * pair.lot_step))))  # ceil: enough lots to cover the excess
            volume -= lots * pair.lot_step
        return max(volume, ZERO)

    def is_dust(self, trade: BotTrade) -> bool:
        """Too small to sell on its own: below ordermin, or below costmin at its entry price."""
        return self.pair.below_minimum(trade.entry_price, trade.volume) is not None

    def book_open(self, fill: Fill) -> BotTrade:
        if fill.side is not Side.BUY:
            raise ValueError("open fills are buys (long-only)")
        if not fill.volume > 0:
            raise BooksInvariantError(f"a buy fill of volume {fill.volume} opens no trade")
        cash = self._checked_cash(self.cash - fill.cost - fill.fee, fill)
        trade = BotTrade(self._next_id, fill)
        self._next_id += 1
        self.cash = cash
        self.changes += 1
        (self.dust if self.is_dust(trade) else self.open_trades).append(trade)
        return trade

    def book_close(self, trade: BotTrade, fill: Fill) -> Closing:
        """Book a sell of ``trade``: all of it, or part (the remainder stays open, or becomes dust)."""
        index = self._open_index(trade)
        if not 0 < fill.volume <= trade.volume:
            raise BooksInvariantError(f"trade {trade.trade_id}: a sell of {fill.volume} cannot close {trade.volume}")
        cash = self._checked_cash(self.cash + fill.cost - fill.fee, fill)
        remainder = None
        if fill.volume < trade.volume:
            trade, remainder = trade.split(fill.volume, self._next_id, self.pair.cost_decimals)
            self._next_id += 1
        closed = trade.closed_by(fill)
        self.cash = cash
        self.changes += 1
        if remainder is None:
            del self.open_trades[index]
        elif self.is_dust(remainder):
            del self.open_trades[index]
            self.dust.append(remainder)
        else:
            self.open_trades[index] = remainder  # the strategy still holds it, where the trade was
        self.closed_trades.append(closed)
        return Closing(closed, remainder)

    def restore(self, trades: list[BotTrade], cash: Decimal) -> None:
        """Reload persisted books (bot restart): trades in id order, cash as it was last booked.

        The lists are filled in place (the engine and the trader read the same lists).
        """
        if cash < 0:
            raise BooksInvariantError(f"stored cash {cash} is below zero")
        held = [t for t in trades if t.is_open]
        self.open_trades[:] = [t for t in held if not self.is_dust(t)]
        self.dust[:] = [t for t in held if self.is_dust(t)]
        self.closed_trades[:] = [t for t in trades if not t.is_open]
        self.cash = cash
        self.changes += 1
        self._next_id = max((t.trade_id for t in trades), default=0) + 1

    def _checked_cash(self, cash: Decimal, fill: Fill) -> Decimal:
        if cash < 0:
            raise BooksInvariantError(
                f"booking {fill.side.value} {fill.volume} for {fill.cost} + fee {fill.fee} (order {fill.order_id}) "
                f"would leave cash at {cash}: the order cost more than the bot's budget")
        return cash

    @property
    def trades(self) -> list[BotTrade]:
        return sorted(self.closed_trades + self.open_trades + self.dust, key=lambda t: t.trade_id)

    @property
    def position(self) -> Decimal:
        """Base held by this bot: open trades and dust."""
        return sum((t.volume for t in self.open_trades), ZERO) + sum((t.volume for t in self.dust), ZERO)

    def equity(self, mark: Decimal) -> Decimal:
        """Cash plus open positions marked at ``mark`` (no exit fee assumed), at cost decimals."""
        return self.pair.round_cost(self.cash + self.position * mark)

    @property
    def fees(self) -> Decimal:
        return sum((t.fees for t in self.closed_trades + self.open_trades + self.dust), ZERO)

    def _open_index(self, trade: BotTrade) -> int:
        for index, candidate in enumerate(self.open_trades):
            if candidate.trade_id == trade.trade_id:
                return index
        raise ValueError(f"trade {trade.trade_id} is not open")
