"""The ``candlebot`` command: flags become settings, and ``candlebot.assembly`` builds the bot or backtest from them.

``candlebot [flags]`` backtests with ``--data`` and otherwise runs a bot against
Kraken (or the local simulator); ``candlebot backtest`` and ``candlebot run`` are the
same with only their own flags. A first word naming a subcommand (``download``,
``data``, ``report``, ``status``, ``optimize``, ``strategies``, ...) runs that tool instead; each
lives in its own module so a bot never imports the research tools. Bare ``candlebot``
and ``candlebot help`` list the commands. User mistakes print one line on stderr and exit 2.
"""

from __future__ import annotations

import difflib
import importlib
import sys

from candlebot.errors import ConfigError

# subcommand -> module with ``main(argv) -> int``; imported only when asked for
SUBCOMMANDS: dict[str, str] = {
    "download": "candlebot.cli.download",
    "fleet": "candlebot.cli.fleet",
    "data": "candlebot.cli.data",
    "report": "candlebot.cli.report",
    "replay": "candlebot.cli.replay",
    "status": "candlebot.cli.status",
    "optimize": "candlebot.cli.optimize",
    "new-strategy": "candlebot.cli.new_strategy",
    "strategies": "candlebot.cli.strategies",
    "demo": "candlebot.cli.demo",
    "ledger": "candlebot.cli.ledger",
    "collector": "candlebot.cli.collector",
    "kraken-sim": "candlebot.cli.kraken_sim",
}
# commands also installed as a script of their own (candlebot-NAME): told which name ran them, for --help and errors
SCRIPTS = ("ledger", "collector", "kraken-sim", "demo")
# the trading parser for one use only (``candlebot.cli.args.build_parser``)
TRADING = {"backtest": ("backtest",), "run": ("bot",)}

# ``candlebot help``: in the order a newcomer meets them; a name without a module here is not listed
SUMMARIES: dict[str, str] = {
    "demo": "a paper bot trading a local Kraken simulator for a minute (no keys, no internet)",
    "backtest": "test a strategy on a candle or trade file (--data FILE, or --data demo)",
    "run": "run a bot on Kraken: paper (default, no key), --validate or --live",
    "strategies": "the built-in strategies and yours (the current folder, --strategy-path DIR) with their parameters",
    "new-strategy": "write a strategy file to start from (candlebot new-strategy NAME)",
    "download": "fetch Kraken trades and build candle files from them",
    "data": "list the candle and trade files on disk",
    "optimize": "search a strategy's parameters on historical candles",
    "report": "the HTML report of a running or stopped bot",
    "replay": "backtest a bot's own recorded candles and compare every decision with what the bot did",
    "status": "one table of every bot in a state directory",
    "ledger": "a bot's trades and totals, read from its state file",
    "fleet": "supervisor config for many bots from one FLEET.toml",
    "collector": "record Kraken order books, print or export them",
    "kraken-sim": "a local Kraken simulator (REST and WebSocket) for tests and demos",
    "help": "this list; candlebot help COMMAND shows that command's flags",
}


def commands() -> list[tuple[str, str]]:
    """(name, one line) of every command there is."""
    return [(name, text) for name, text in SUMMARIES.items() if name in SUBCOMMANDS or name in TRADING or name == "help"]


def command_list() -> str:
    width = max(len(name) for name, _ in commands())
    lines = ["candlebot: candlestick trading bots for Kraken, backtests and research tools.", "",
             "usage: candlebot COMMAND [flags]   (candlebot COMMAND --help for its flags)", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {text}" for name, text in commands()]
    lines += ["", "start with:",
              "  candlebot demo",
              "  candlebot backtest --data demo --strategy sma_cross",
              "  candlebot run -c XBTUSD --strategy sma_cross        (paper: live prices, no key, no real orders)",
              "the original bot's flags work without a command: candlebot -x kraken -p 5 -t 5 -c XBTUSD --strategy sma_cross",
              "more: README.md, Getting started"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    prog = command_prog(argv)
    try:
        if not argv or argv[0] == "help":
            return _help(argv[1:])
        if argv[0] in SUBCOMMANDS:
            command = importlib.import_module(SUBCOMMANDS[argv[0]])
            if argv[0] in SCRIPTS:
                return command.main(argv[1:], prog=f"candlebot {argv[0]}")
            return command.main(argv[1:])
        if argv[0] in TRADING:
            return _trade(argv[1:], TRADING[argv[0]], prog)
        if not argv[0].startswith("-"):
            raise ConfigError(_unknown(argv[0]))
        return _trade(argv)
    except ConfigError as exc:
        from candlebot.cli.oneline import refuse

        return refuse(prog, str(exc))
    except KeyboardInterrupt:
        print("candlebot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        from candlebot.cli.pipes import reader_gone

        return reader_gone()


def command_prog(argv: list[str]) -> str:
    """The command as typed, which every refusal names: ``candlebot optimize``; ``candlebot`` without a command."""
    if argv and (argv[0] in SUBCOMMANDS or argv[0] in TRADING):
        return f"candlebot {argv[0]}"
    return "candlebot"


def _help(argv: list[str]) -> int:
    if not argv:
        sys.stdout.write(command_list())
        return 0
    if argv[0] == "help":
        return _help([])
    if argv[0] not in SUBCOMMANDS and argv[0] not in TRADING:
        raise ConfigError(_unknown(argv[0]))
    return main([argv[0], "--help"])


def _unknown(word: str) -> str:
    names = [name for name, _ in commands()]
    close = difflib.get_close_matches(word, names, n=1)
    return (f"unknown command {word!r}" + (f" (did you mean {close[0]}?)" if close else "")
            + "; candlebot help lists the commands")


def _trade(argv: list[str], uses: tuple[str, ...] | None = None, prog: str = "candlebot") -> int:
    from candlebot.cli.args import build_parser

    args = (build_parser(uses, prog) if uses else build_parser()).parse_args(argv)
    if args.data is not None:
        from candlebot.cli import backtest

        return backtest.run(args, prog=prog)
    from candlebot.cli import bot

    return bot.run(args, prog)


if __name__ == "__main__":
    sys.exit(main())
