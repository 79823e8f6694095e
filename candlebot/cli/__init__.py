"""The ``candlebot`` command: flags become settings, and ``candlebot.assembly`` builds the bot or backtest from them.

``candlebot [flags]`` backtests with ``--data`` and otherwise runs a bot against
Kraken (or the local simulator). A first word naming a subcommand (``download``,
``data``, ``report``, ``status``, ``optimize``, ``new-strategy``, ...) runs that tool instead; each
lives in its own module so a bot never imports the research tools. User mistakes
print one line on stderr and exit 2.
"""

from __future__ import annotations

import importlib
import sys

from candlebot.errors import ConfigError

# subcommand -> module with ``main(argv) -> int``; imported only when asked for
SUBCOMMANDS: dict[str, str] = {
    "download": "candlebot.cli.download",
    "data": "candlebot.cli.data",
    "report": "candlebot.cli.report",
    "replay": "candlebot.cli.replay",
    "status": "candlebot.cli.status",
    "optimize": "candlebot.cli.optimize",
    "new-strategy": "candlebot.cli.new_strategy",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] in SUBCOMMANDS:
            return importlib.import_module(SUBCOMMANDS[argv[0]]).main(argv[1:])
        return _trade(argv)
    except ConfigError as exc:
        print(f"candlebot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("candlebot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        from candlebot.cli.pipes import reader_gone

        return reader_gone()


def _trade(argv: list[str]) -> int:
    from candlebot.cli.args import build_parser

    args = build_parser().parse_args(argv)
    if args.data is not None:
        from candlebot.cli import backtest

        return backtest.run(args)
    from candlebot.cli import bot

    return bot.run(args)


if __name__ == "__main__":
    sys.exit(main())
