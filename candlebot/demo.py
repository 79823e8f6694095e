"""``candlebot-demo``: a paper bot against a local Kraken simulator, no keys or internet needed.

The simulator plays its seeded price series in real time (with a month of
history, so the bot warms its indicators up at once); the bot trades it with
3-second candles, prints the ticker and ledger lines as it goes and stops by
itself after ``--seconds`` (or on Ctrl-C), then shows its books.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from candlebot.cli import main as candlebot_main
from candlebot.ledger_cli import main as ledger_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="candlebot-demo", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the bot runs (default 60)")
    parser.add_argument("--strategy", default="sma_cross", help="strategy to run (default sma_cross)")
    parser.add_argument("--param", action="append", default=None, metavar="NAME=VALUE",
                        help="strategy parameter (default for sma_cross: fast=4 slow=12)")
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        print("candlebot-demo: error: --seconds must be > 0", file=sys.stderr)
        return 2
    params = args.param if args.param is not None else (["fast=4", "slow=12"] if args.strategy == "sma_cross" else [])

    from exchanges.kraken_sim import KrakenSimulator, SimConfig

    with tempfile.TemporaryDirectory(prefix="candlebot-demo-") as folder:
        work = Path(folder)
        simulator = KrakenSimulator(SimConfig(tier="none", seed=7)).start()
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
