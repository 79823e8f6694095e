"""Kraken history on disk: trades paged from the public ``Trades`` endpoint, candles built from them, and
Kraken's downloadable OHLCVT archives imported. The CLI (``candlebot.cli.download``) wires these to the
Kraken adapter; nothing here talks HTTP itself (the ``public`` call is injected).
"""
