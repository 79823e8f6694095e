"""What leaves the process: events as log and ledger lines, sinks/ (StatsD, Slack), the reports and their
metrics, what ``candlebot status`` and ``candlebot report`` read from a bot's files, progress bars.

The report code takes plain data (candle columns, indicator lines, fills, the
start cash), so a backtest and a bot's store can feed the same code.
"""
