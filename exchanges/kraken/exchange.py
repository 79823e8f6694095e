"""``KrakenExchange``: candlebot's ``Exchange`` on Kraken's REST API, through krakenex.

Market data (pairs, ticker, OHLC, depth, trades) and the account (balances,
orders) of one API key. Pair names are accepted in any usual spelling
(``XBTUSD``, ``BTC/USD``, ``XXBTZUSD``, ``btc-usd``); results carry the pair id.
Errors are candlebot's (``candlebot.exchanges.kraken.errors`` tells which); orders are
never placed twice (``candlebot.exchanges.kraken.orders``).
"""

from __future__ import annotations

import random
from decimal import Decimal
from os import PathLike

from candlebot.candle import Candle
from candlebot.clock import Clock, LiveClock
from candlebot.data.history import KRAKEN_INTERVALS, latest_closed_candles
from candlebot.errors import ConfigError, FatalExchangeError, TemporaryExchangeError
from candlebot.venue import Fill, OhlcPage, OrderBook, OrderRequest, Side, Ticker
from candlebot.pair import PairInfo
from candlebot.exchanges.kraken import replies
from candlebot.exchanges.kraken.client import KrakenClient
from candlebot.exchanges.kraken.config import KrakenConfig
from candlebot.exchanges.kraken.keys import KrakenCredentials
from candlebot.exchanges.kraken.nonce import NonceSequencer
from candlebot.exchanges.kraken.orders import KrakenOrders
from candlebot.exchanges.kraken.ratelimit import RateLimiter, tier_named, trading_tier_named
from candlebot.exchanges.kraken.tradecounter import TradingCounter
from candlebot.exchanges.kraken.fillboard import FillBoard
from candlebot.exchanges.kraken.replies import AccountFees, KrakenOrder, TradesPage
from candlebot.exchanges.kraken_pairs import find_pair, unknown_pair_message

MAX_OHLC_ROWS = 720
PUBLIC_PACE_S = 1.0  # between pages of public history


class KrakenExchange:
    """Kraken for one bot (or several sharing a key: nonces and the rate counter are shared by file).

    ``credentials`` may be None for market data only; ``state_dir`` holds the
    per-key nonce file (default ``candlebot.live.paths.default_state_dir()``).
    """

    name = "kraken"

    def __init__(
        self,
        config: KrakenConfig | None = None,
        *,
        credentials: KrakenCredentials | None = None,
        clock: Clock | None = None,
        state_dir: str | PathLike[str] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config or KrakenConfig()
        self.clock: Clock = clock or LiveClock()
        sequencer = trading = None
        if credentials is not None:
            tier, trading_tier = tier_named(self.config.tier), trading_tier_named(self.config.tier)
            sequencer = NonceSequencer(credentials.key_id, state_dir=state_dir, clock=self.clock,
                                       limiter=RateLimiter(tier) if tier else None)
            if trading_tier is not None:
                trading = TradingCounter(sequencer.path.parent, credentials.key_id, clock=self.clock,
                                         limiter=RateLimiter(trading_tier))
        self.client = KrakenClient(
            url=self.config.url, credentials=credentials, sequencer=sequencer,
            timeout=(self.config.connect_timeout, self.config.timeout), retry=self.config.retry,
            clock=self.clock, rng=rng, order_reserve=self.config.order_reserve, trading=trading,
            order_wait_max=self.config.order_wait_max,
        )
        board = None
        if sequencer is not None and self.config.share_fill_reads:
            board = FillBoard(sequencer.path.parent / f"key-{credentials.key_id}.fills", self.client, self.clock)
        self.orders = KrakenOrders(self.client, self.config, self.clock, board=board)
        self._pairs: dict[str, PairInfo] = {}
        self._pairs_at = float("-inf")

    def __repr__(self) -> str:
        return f"KrakenExchange({self.client!r})"

    def close(self) -> None:
        self.client.close()
        if self.client.sequencer is not None:
            self.client.sequencer.close()
        if self.client.trading is not None:
            self.client.trading.close()

    def __enter__(self) -> KrakenExchange:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- pairs ---------------------------------------------------------------------------------

    def pairs(self, *, refresh: bool = False) -> dict[str, PairInfo]:
        """Every tradable pair by id (AssetPairs), cached for ``config.pairs_ttl`` seconds."""
        if refresh or not self._pairs or self.clock.monotonic() - self._pairs_at > self.config.pairs_ttl:
            self._pairs = replies.asset_pairs(self.client.public("AssetPairs"))
            self._pairs_at = self.clock.monotonic()
        return self._pairs

    def pair_info(self, pair: str) -> PairInfo:
        found = _find(self.pairs(), pair)
        if found is None and self.clock.monotonic() - self._pairs_at > 60:
            found = _find(self.pairs(refresh=True), pair)  # a pair listed since the cache was filled
        if found is None:  # named as the catalog names it (DOGEUSD suggests XDGUSD, not another coin)
            known = unknown_pair_message(pair, [(p.altname, p.wsname) for p in self._pairs.values()])
            raise FatalExchangeError(f"Kraken has no pair {pair!r}: {known}", code="EQuery:Unknown asset pair")
        return found

    # -- market data ---------------------------------------------------------------------------

    def ticker(self, pair: str) -> Ticker:
        info = self.pair_info(pair)
        return replies.ticker(self.client.public("Ticker", {"pair": info.name}), info, self.clock.now())

    def market_price(self, pair: str, side: Side) -> Decimal:
        """Best ask for a buy, best bid for a sell."""
        tick = self.ticker(pair)
        return tick.ask if side is Side.BUY else tick.bid

    def ohlc(self, pair: str, interval_minutes: int, since: int | None = None) -> OhlcPage:
        if interval_minutes not in KRAKEN_INTERVALS:
            raise ConfigError(f"Kraken OHLC interval must be one of {KRAKEN_INTERVALS} minutes, got {interval_minutes}")
        info = self.pair_info(pair)
        result = self.client.public("OHLC", {"pair": info.name, "interval": interval_minutes, "since": since})
        return replies.ohlc(result, info)

    def closed_candles(self, pair: str, interval_minutes: int, count: int) -> tuple[Candle, ...]:
        """The latest ``count`` closed candles, oldest first, paging with since/last.

        Kraken serves at most the latest 720 candles of an interval: fewer
        come back when no more exist.
        """
        if count <= 0:
            return ()
        latest = self.ohlc(pair, interval_minutes)
        candles = {c.time: c for c in latest.candles}
        if len(candles) < count and latest.forming is not None:
            since = latest.forming.time - (count + 1) * interval_minutes * 60
            for _ in range(count // MAX_OHLC_ROWS + 3):
                self.clock.sleep(PUBLIC_PACE_S)  # Kraken allows about one public call a second per IP
                page = self.ohlc(pair, interval_minutes, since)
                fresh = [c for c in page.candles if c.time not in candles]
                candles.update({c.time: c for c in page.candles})
                if not fresh or page.last <= since or len(candles) >= count:
                    break
                since = page.last
        if latest.forming is not None:
            candles.pop(latest.forming.time, None)
        ordered = sorted(candles.values(), key=lambda c: c.time)
        return tuple(ordered[-count:])

    def latest_candles(self, pair: str, period: int, count: int, now: float) -> list[Candle]:
        """``History``: OHLC resampled from the largest Kraken interval dividing the period; recent trades below a minute."""
        return latest_closed_candles(
            period, count, now, max_rows=MAX_OHLC_ROWS,
            ohlc=lambda interval, rows: self.closed_candles(pair, interval, rows),
            trades=lambda: [(t.time, float(t.price), float(t.volume)) for t in self.recent_trades(pair).trades],
        )

    def order_book(self, pair: str, depth: int = 100) -> OrderBook:
        if not 1 <= depth <= 500:
            raise ConfigError(f"Kraken order-book depth must be within 1..500, got {depth}")
        info = self.pair_info(pair)
        return replies.order_book(self.client.public("Depth", {"pair": info.name, "count": depth}),
                                  info, self.clock.now())

    def recent_trades(self, pair: str, since: str | int | None = None) -> TradesPage:
        info = self.pair_info(pair)
        return replies.trades(self.client.public("Trades", {"pair": info.name, "since": since}), info)

    def server_time(self) -> float:
        """Kraken's clock (public ``Time``): what an audit compares order times with, never the local clock."""
        result = self.client.public("Time")
        try:
            return float(result["unixtime"])
        except (KeyError, TypeError, ValueError):
            raise TemporaryExchangeError(f"Kraken's Time reply has no unixtime: {str(result)[:80]}") from None

    # -- account -------------------------------------------------------------------------------

    def balances(self, *, deferrable: bool = False) -> dict[str, Decimal]:
        """``deferrable``: ``RateBudgetDeferred`` rather than waiting for the key or the rate counter."""
        return replies.balances(self.client.private("Balance", deferrable=deferrable))

    def account_fees(self, pair: str, *, deferrable: bool = False) -> AccountFees:
        """The account's own fee tier on ``pair`` (TradeVolume): what Kraken charges it, not the published first tier.

        ``deferrable``: ``RateBudgetDeferred`` rather than waiting for the key or the rate counter.
        """
        info = self.pair_info(pair)
        return replies.trade_volume(self.client.private("TradeVolume", {"pair": info.name}, deferrable=deferrable), info)

    def place_market_order(self, order: OrderRequest) -> Fill:
        return self.orders.place(order, self.pair_info(order.pair))

    def validate_market_order(self, order: OrderRequest) -> str:
        """Let Kraken check the order (AddOrder validate=true); nothing is placed. Returns Kraken's description."""
        return self.orders.validate(order, self.pair_info(order.pair))

    def find_order(self, pair: str, userref: int) -> Fill | None:
        """A reconciliation lookup: never waits for the key or the rate counter (``RateBudgetDeferred``, retry later)."""
        return self.orders.find(self.pair_info(pair), userref, deferrable=True)

    def open_orders(self, userref: int | None = None) -> list[KrakenOrder]:
        return self.orders.open_orders(userref)

    def closed_orders(self, userref: int | None = None, *, start: float | None = None,
                      ofs: int | None = None) -> list[KrakenOrder]:
        return self.orders.closed_orders(userref, start=start, ofs=ofs)

    def query_orders(self, txids: list[str]) -> list[KrakenOrder]:
        return self.orders.query_orders(txids)

    def cancel_order(self, txid: str) -> bool:
        """CancelOrder (safe to retry); False when the order is unknown or no longer open."""
        return self.orders.cancel(txid)


def _find(pairs: dict[str, PairInfo], name: str) -> PairInfo | None:
    try:
        return find_pair(pairs, name)
    except ConfigError:
        return None
