"""Backfill after an outage: the candles a bot could not poll, from Kraken's OHLC, before its strategy goes on.

A bot makes one candle per period from its polls. When it could not poll for more than a period (the network
was down, Kraken was in maintenance), its chart would skip those periods and keep the partial candle it was
building when the outage began, while Kraken's OHLC (and a backtest of its data) has every period, flat where
nothing traded. So on the first poll that lands more than a period after the candle it was building, the bot
asks the venue for the closed candles since then, puts Kraken's bar in place of its partial one, and appends
the missed ones: its indicators learn from them as from a warm-up, but the strategy does not trade on them
(their moment has passed). The next candle then closes on a chart equal to Kraken's.
"""

from __future__ import annotations

import logging

from candlebot.chart import Chart
from candlebot.trading.engine import Engine
from candlebot.venue import History

log = logging.getLogger(__name__)


class Backfill:
    def __init__(self, exchange: History, pair: str, chart: Chart, engine: Engine) -> None:
        self.exchange = exchange
        self.pair = pair
        self.chart = chart
        self.engine = engine

    def catch_up(self, now: float) -> int:
        """Before a poll at ``now`` goes into the chart: the candles missed since the last poll, if any were.
        Returns how many candles went in. ExchangeError propagates: the poll fails and is retried."""
        chart, period = self.chart, self.chart.period
        current = int(now) // period * period
        forming = chart.forming
        last = forming.time if forming is not None else (chart.times[-1] if len(chart) else None)
        if last is None or current - last < 2 * period:
            return 0  # at most the period just ended went unpolled: the usual close
        first = last if forming is not None else last + period  # Kraken's bar replaces the partial one
        count = (current - first) // period
        missed = [c for c in self.exchange.latest_candles(self.pair, period, count + 2, now) if first <= c.time < current]
        if forming is not None:
            chart.discard_forming()
            if not missed or missed[0].time != forming.time:  # no bar for it: keep what was polled
                missed.insert(0, forming)
        self.engine.warm_up(missed)
        log.info("no poll for %d periods: %d candles backfilled from the exchange's OHLC", count, len(missed))
        return len(missed)
