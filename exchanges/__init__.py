"""Venues behind ``candlebot.venue.Exchange``: the backtest exchange, paper fills, the Kraken adapter and simulator."""
