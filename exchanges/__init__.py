"""Venues behind ``candlebot.exchange.Exchange``: the backtest exchange, paper fills, the Kraken adapter and simulator."""
