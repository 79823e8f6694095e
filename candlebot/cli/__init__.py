"""The ``candlebot`` command: the one place that wires the core to strategies and exchanges.

With ``--data`` it backtests; without, it runs a bot against Kraken (or the
local simulator). User mistakes print one line on stderr and exit 2.
"""

from __future__ import annotations

import sys

from candlebot.cli.args import build_parser
from candlebot.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.data is not None:
            from candlebot.cli import backtest

            return backtest.run(args)
        from candlebot.cli import bot

        return bot.run(args)
    except ConfigError as exc:
        print(f"candlebot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("candlebot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
