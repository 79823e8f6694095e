"""Strategy optimization: optuna over a strategy's typed parameters, walk-forward, deflated Sharpe.

Research-only: a bot never imports this package (``candlebot optimize`` loads it on demand).
"""
