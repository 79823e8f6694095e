"""``candlebot report --name BOT [--state-dir DIR] -o FILE.html [--png FILE.png]``: a bot's report from its store.

Reads the file without writing to it, so a running bot can be reported on at any time.
"""

from __future__ import annotations

import sys
from pathlib import Path

from candlebot.output.botreport import bot_report_data
from candlebot.output.botstatus import open_bot
from candlebot.output.pnl import net_pnl_line
from candlebot.cli.report_output import check_report_paths, write_reports
from candlebot.cli.oneline import OneLineParser
from candlebot.errors import ConfigError
from candlebot.identity import BotIdentity
from candlebot.live.paths import default_state_dir


def main(argv: list[str]) -> int:
    parser = OneLineParser(prog="candlebot report", description="The HTML report of a running or stopped bot.")
    parser.add_argument("--name", required=True, help="the bot's name (its --name)")
    parser.add_argument("--state-dir", help="the bot's state directory (default: the bots' default)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE.html", help="the HTML report to write")
    parser.add_argument("--png", metavar="FILE.png", help="also a static picture (needs candlebot[report])")
    args = parser.parse_args(argv)
    identity = BotIdentity.from_name(args.name)
    check_report_paths(args.output, args.png)
    path = (Path(args.state_dir) if args.state_dir else default_state_dir()) / "bots" / f"{identity.label}.sqlite"
    if not path.exists():
        raise ConfigError(f"no bot named {args.name} in {path.parent} (no {path.name})")
    store = open_bot(path)  # StateFileError: one line, exit 2
    try:
        data = bot_report_data(store, identity.name)
    finally:
        store.close()
    write_reports(args.output, args.png, data, sys.stderr)
    print(f"{args.output}: {len(data.times):,} candles, {len(data.fills)} fills, {len(data.decisions)} decisions")
    print(net_pnl_line(data.metrics.net_pnl))
    return 0
