"""What a run shows people: metrics from the mark-to-market equity, the HTML and PNG reports, progress bars.

Everything here takes plain data (candle columns, indicator lines, fills, the
start cash), so a backtest and a bot's store can feed the same code.
"""
