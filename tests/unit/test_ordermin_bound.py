"""A buy its cash cannot bring to the pair's ordermin is skipped before any book or Decimal sizing (issue 23: after
a backtest's cash ran out, ~20k such buys were each sized, ~25 us apiece), and that skip is exactly the one the
full sizing reaches: same candles, same reason kind, same books."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from decimal import Decimal as D

import pytest

from candlebot.assembly import Backtest, build_backtest, load_chart
from candlebot.assembly.backtest import backtest_venue
from candlebot.assembly.strategy import strategy_on
from candlebot.cli.args import build_parser
from candlebot.cli.backtest import settings_from_args
from candlebot.events import EventBus, OrderSkipped
from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs
from candlebot.output.skips import SkipTally
from candlebot.trading.engine import Engine
from candlebot.trading.ledger import Ledger, Sizing
from candlebot.trading.minimum import OrderminBound
from candlebot.trading.protection import Protection
from candlebot.trading.trader import Trader
from candlebot.venue import BookLevel

XBTUSD = find_pair(offline_pairs(), "XBTUSD")  # tick 0.1, lot 8, cost 5 decimals; ordermin 0.0001


def _settings(data, *flags: str):
    return settings_from_args(build_parser().parse_args(["--data", str(data), "--no-cache", *flags]))


def _unbounded_backtest(settings, chart, bus: EventBus) -> Backtest:
    """``build_backtest``'s wiring with a running bot's trader (no ``least_ask``): every buy reads and sizes a book."""
    exchange = backtest_venue(chart, settings.pair, cash=settings.cash, fee_rate=settings.fee_rate,
                              slippage_bps=settings.slippage_bps, spread=settings.spread)
    ledger = Ledger(settings.pair, settings.cash)
    userrefs = itertools.count(1)
    trader = Trader(exchange=exchange, pair=settings.pair, ledger=ledger,
                    sizing=Sizing(settings.params.num_simultaneous_trades, settings.stake), fee_rate=settings.fee_rate,
                    bus=bus, clock=exchange.clock, next_userref=lambda: next(userrefs),
                    protection=Protection(settings.pair, settings.max_slippage))
    indicators, strategy, desk = strategy_on(settings, chart, trader)
    engine = Engine(chart=chart, indicators=indicators, strategy=strategy, desk=desk, ledger=ledger,
                    clock=exchange.clock, bus=bus, market=exchange)
    return Backtest(settings, chart, engine, ledger, trader, exchange, 0, SkipTally().attach(bus))


def test_a_buy_the_cash_cannot_bring_to_ordermin_reads_no_book(shared_data):
    """1 USD at ~23,000 USD/BTC buys 0.00004 BTC, below ordermin 0.0001: skipped without reading the book."""
    settings = _settings(shared_data / "kraken/xbtusd_5m_2023q1.csv.gz", "--strategy", "sma_cross", "--cash", "1")
    bus = EventBus()
    skipped: list[OrderSkipped] = []
    bus.subscribe(skipped.append, OrderSkipped)
    backtest = build_backtest(settings, load_chart(settings), bus)
    exchange = backtest.exchange
    reads = []

    def books():
        reads.append(exchange.clock.index)
        return exchange.order_book(settings.pair.name)

    trader = Trader(exchange=exchange, pair=settings.pair, ledger=Ledger(settings.pair, D("1")),
                    sizing=backtest.trader.sizing, fee_rate=settings.fee_rate, bus=bus, clock=exchange.clock,
                    next_userref=lambda: 1, protection=Protection(settings.pair), books=books,
                    least_ask=exchange.least_ask)
    exchange.at(100)
    assert trader.buy() is None
    assert reads == []
    assert len(skipped) == 1 and f" below ordermin 0.0001 {settings.pair.base}" in skipped[0].reason, skipped
    exchange.at(len(backtest.chart) - 1)  # the end of the data: no next open, so the full path says why
    assert trader.buy() is None
    assert reads == [len(backtest.chart) - 1]


@pytest.mark.parametrize("tick, decimals", [(D("0.1"), 1), (D("0.5"), 1), (D("0.25"), 2), (D("5"), 0)])
def test_above_the_bound_full_sizing_finds_a_volume_below_ordermin(tick, decimals):
    """Prices just above ``short_above(commit)`` (where rounding is tightest) and far above it, every slippage and
    fee: the trader's own sizing at a book asking that price finds a volume below ordermin, every time."""
    pair = replace(XBTUSD, tick_size=tick, pair_decimals=decimals)
    rng = random.Random(23)
    fired = 0
    for _ in range(3000):
        fee = D(rng.choice(["0", "0.0026", "0.004", "0.01"]))
        slippage = D(rng.choice(["0", "0.001", "0.005", "0.05"]))
        commit = D(rng.randrange(1, 10_000_000)) / 10**5
        bound = OrderminBound(pair, fee, slippage).short_above(commit)
        ask_float = bound * (1 + rng.choice([1e-12, 1e-9, 1e-6, 1e-3, 0.5]))
        ask = pair.price_against(D(repr(ask_float)), "buy")  # what the venue quotes above that raw open
        if ask_float <= bound:
            continue
        fired += 1
        ledger = Ledger(pair, commit)
        volume, limit = Protection(pair, slippage).buy((BookLevel(ask, D("1e12")),), commit, fee, ledger.volume_for)
        assert volume < pair.ordermin, (commit, ask, fee, slippage, volume)
        assert pair.below_minimum(limit, volume).startswith("volume ")
    assert fired > 2500


def test_the_bound_is_tight_enough_to_matter():
    """Just below the bound's price the cash still buys ordermin or more at 0.5% max slippage: it skips only what
    it must, and not much less (1.96 USD, the cash sma_cross leaves on the 1M Binance file)."""
    bound = OrderminBound(XBTUSD, D("0.0026"), D("0.005")).short_above(D("1.96283"))
    ledger = Ledger(XBTUSD, D("1.96283"))
    below = XBTUSD.price_against(D(repr(bound * 0.999)), "buy")
    volume, _ = Protection(XBTUSD).buy((BookLevel(below, D("1e12")),), D("1.96283"), D("0.0026"), ledger.volume_for)
    assert volume >= XBTUSD.ordermin
    assert 19_000 < bound < 20_000


SKIPPING_RUNS = [  # backtests that run out of cash and then skip many buys below ordermin
    ("--strategy", "sma_cross", "--cash", "3"),
    ("--strategy", "macd", "--cash", "5", "--spread", "0.002", "--slippage-bps", "4"),
    ("--strategy", "sma_cross", "--cash", "40", "--stake", "2.5", "--max-slippage", "0"),
    ("--strategy", "sma_cross", "--cash", "9", "--param", "num_simultaneous_trades=3"),
]


@pytest.mark.parametrize("flags", SKIPPING_RUNS)
def test_a_backtest_skips_the_same_buys_with_and_without_the_bound(shared_data, flags):
    """The whole run with the bound, and with every buy sized on the book: the same trades, cash, fees, and the
    same skipped buys on the same candles, each a below-ordermin skip in both."""
    settings = _settings(shared_data / "binanceus/btcusd_1m_2023-03-01_2023-03-21.csv.gz", *flags)
    chart = load_chart(settings)
    runs = []
    for bounded in (True, False):
        bus = EventBus()
        skipped: list[OrderSkipped] = []
        bus.subscribe(skipped.append, OrderSkipped)
        backtest = build_backtest(settings, chart, bus) if bounded else _unbounded_backtest(settings, chart, bus)
        report = backtest.run()
        runs.append((backtest, report, skipped))
    (fast, fast_report, fast_skips), (full, full_report, full_skips) = runs
    assert fast.ledger.trades == full.ledger.trades
    assert (fast.ledger.cash, fast.ledger.fees) == (full.ledger.cash, full.ledger.fees)
    assert (fast.skips.total, fast.skips.below_minimum) == (full.skips.total, full.skips.below_minimum)
    assert [(s.time, s.side) for s in fast_skips] == [(s.time, s.side) for s in full_skips]
    bounded_skips = [f for f, s in zip(fast_skips, full_skips) if f.reason != s.reason]
    assert all(" below ordermin " in f.reason and s.reason.startswith("volume ") and " below ordermin " in s.reason
               for f, s in zip(fast_skips, full_skips) if f.reason != s.reason)
    assert len(bounded_skips) > 100  # the bound did the skipping here, not the full sizing
    assert fast_report.to_json() | {"elapsed_s": 0} == full_report.to_json() | {"elapsed_s": 0}


def test_the_skip_reason_names_each_commit_as_written_and_the_ask():
    """The reason's Decimal part is formatted once per commit: a new commit, or the same value written otherwise
    (1.5 and 1.50), is named as the trader would name it, with the ask of that buy."""
    bound = OrderminBound(XBTUSD, D("0.0026"), D("0.005"))
    tail = f"{XBTUSD.quote} buys a volume below ordermin {XBTUSD.ordermin} {XBTUSD.base} at"
    assert bound.reason(D("1.5"), 43123.5) == f"1.5 {tail} 43123.5 or more"
    assert bound.reason(D("1.5"), 42000.25) == f"1.5 {tail} 42000.25 or more"
    assert bound.reason(D("1.50"), 42000.25) == f"1.50 {tail} 42000.25 or more"
    assert bound.reason(D("0.97"), 1e5) == f"0.97 {tail} 100000.0 or more"


@pytest.mark.parametrize("flags", SKIPPING_RUNS)
def test_a_backtest_counts_its_skips_without_building_an_event_for_each(shared_data, flags):
    """A backtest subscribes nothing to OrderSkipped (its tally follows the trader), so a silent run words no skip
    reason; its counts are those a tally reading every OrderSkipped event finds, and so are the report's."""
    settings = _settings(shared_data / "binanceus/btcusd_1m_2023-03-01_2023-03-21.csv.gz", *flags)
    chart = load_chart(settings)
    silent_bus = EventBus()
    silent = build_backtest(settings, chart, silent_bus)
    assert not silent_bus.wants(OrderSkipped)
    silent_report = silent.run()
    heard_bus = EventBus()
    heard = SkipTally().attach(heard_bus)
    listened = build_backtest(settings, chart, heard_bus)
    listened_report = listened.run()
    assert heard.total > 100
    assert (silent.skips.total, silent.skips.below_minimum) == (heard.total, heard.below_minimum)
    assert (listened.skips.total, listened.skips.below_minimum) == (heard.total, heard.below_minimum)
    assert silent_report.to_json() | {"elapsed_s": 0} == listened_report.to_json() | {"elapsed_s": 0}
