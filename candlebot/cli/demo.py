"""``candlebot-demo``: a paper bot against a local Kraken simulator, no keys or internet needed.

The simulator replays, in real time, a scripted market written for this run:
twenty minutes of slow decline (the bot warms its indicators up on them at
once), then an 18-second rise and a 30-second fall, over and over. sma_cross
with its demo parameters (4/12 on 3-second candles) buys a few candles into
the first rise and sells well into the fall, so every run shows a complete
trade, opened and closed, within about 45 seconds: by construction, not by
chance (the default run lasts 60). The bot prints the ticker and ledger lines as it goes and stops by
itself after ``--seconds`` (or on Ctrl-C), then shows its books.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

from candlebot.cli import main as candlebot_main
from candlebot.cli.ledger import main as ledger_main
from candlebot.cli.oneline import OneLineParser, refuse


FILE_PERIOD = 6  # seconds per scripted candle: two of the bot's 3-second candles
RISE, FALL = 3, 5  # scripted candles up, then down (18 s, 30 s)
HISTORY = 200  # scripted candles before the first rise


def write_demo_market(path: Path, now: float, base: float = 30000.0, move: float = 0.005) -> int:
    """Write the scripted market (see the module docstring); returns the time the first leg starts."""
    first_leg = math.ceil((now + 3) / FILE_PERIOD) * FILE_PERIOD  # the bot is up and warm before the first rise
    rows, price = ["time,open,high,low,close,volume"], base * (1 + HISTORY * move / 5)
    for k in range(-HISTORY, 1200):
        step = -move / 5 if k < 0 else (move if k % (RISE + FALL) < RISE else -move)
        close = price * (1 + step)
        high, low = max(price, close) * 1.0002, min(price, close) * 0.9998
        rows.append(f"{first_leg + k * FILE_PERIOD},{price:.1f},{high:.1f},{low:.1f},{close:.1f},1.5")
        price = close
    path.write_text("\n".join(rows) + "\n")
    return first_leg


def main(argv: list[str] | None = None, prog: str = "candlebot-demo") -> int:
    parser = OneLineParser(prog=prog, description="A paper bot against a local Kraken simulator, no keys or internet needed.")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the bot runs (default 60)")
    parser.add_argument("--strategy", default="sma_cross", help="strategy to run (default sma_cross)")
    parser.add_argument("--param", action="append", default=None, metavar="NAME=VALUE",
                        help="strategy parameter (default for sma_cross: fast=4 slow=12)")
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        return refuse(prog, "--seconds must be > 0")
    params = args.param if args.param is not None else (["fast=4", "slow=12"] if args.strategy == "sma_cross" else [])

    from candlebot.assembly import resolve_strategy, start_demo_market
    from candlebot.errors import ConfigError
    from candlebot.strategy.params import parse_params

    try:  # a typo is one line before a simulator starts and a banner promises a bot
        strategy = resolve_strategy(args.strategy, [])
        parse_params(strategy.Params, params, strategy.name)
    except ConfigError as exc:
        return refuse(prog, str(exc))

    with tempfile.TemporaryDirectory(prefix="candlebot-demo-") as folder:
        work = Path(folder)
        market = work / "market.csv"
        write_demo_market(market, time.time())
        simulator = start_demo_market(market, int(time.time()))
        print(f"candlebot demo: Kraken simulator on {simulator.url}; "
              f"paper bot '{args.strategy}' on 3-second candles for {args.seconds:g} s (Ctrl-C stops it)\n", flush=True)
        try:
            code = candlebot_main([
                "-x", "kraken", "-c", "XBTUSD", "-p", "0.05", "-t", "0.5", "--strategy", args.strategy,
                *sum((["--param", p] for p in params), []), "--paper", "--kraken-url", simulator.url, "--kraken-tier", "none",
                "--name", "demo", "--state-dir", str(work / "state"), "--log-dir", str(work / "logs"),
                "--stop-after", str(args.seconds),
            ])
        finally:
            simulator.stop()
        if code == 0:
            print("\nthe demo bot's books:")
            ledger_main(["--state-dir", str(work / "state"), "--name", "demo"])
        return code


if __name__ == "__main__":
    sys.exit(main())
