"""``candlebot-ledger``: a bot's persisted trades and totals, read from its database without trading.

A state file that cannot be trusted (empty, corrupt, foreign, impossible values)
is reported in one line with exit code 2, as a bot would refuse it.
``--clear-hold`` is how a person lifts an audit hold (``candlebot.live.audit``) after
checking the account.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path

from candlebot.live.audit import HOLD_KEY
from candlebot.errors import ConfigError, StateWriteError
from candlebot.identity import BotIdentity
from candlebot.output.lines import fields_line, ledger_line
from candlebot.money import ZERO
from candlebot.live.paths import default_state_dir
from candlebot.output.report import write_trades_csv
from candlebot.live.store import BotStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="candlebot-ledger", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--state-dir", help="the bot's state directory (default: $CANDLEBOT_STATE_DIR or ~/.local/share/candlebot)")
    parser.add_argument("--name", help="bot name (default: the current folder's name)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON object: trades and totals")
    output.add_argument("--csv", action="store_true", help="one CSV row per trade")
    parser.add_argument("--clear-hold", action="store_true",
                        help="lift an audit hold once you have checked the account (the bot audits again at once)")
    args = parser.parse_args(argv)
    try:
        identity = BotIdentity.from_name(args.name)
        path = (Path(args.state_dir) if args.state_dir else default_state_dir()) / "bots" / f"{identity.label}.sqlite"
        if not path.is_file():
            raise ConfigError(f"no books for bot {identity.name!r} at {path}")
        store = BotStore(path, now=lambda: 0.0, create=False, writable=args.clear_hold)
        try:
            hold = store.meta(HOLD_KEY)
            if args.clear_hold and hold:
                store.delete_meta(HOLD_KEY)
                print(f"audit hold cleared (it said: {hold})", file=sys.stderr)
                hold = None
            books = store.load()
            start_cash = Decimal(store.meta("start_cash") or "0")
            pair = store.meta("pair") or ""
        finally:
            store.close()
    except StateWriteError as exc:
        print(f"candlebot-ledger: error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"candlebot-ledger: error: {exc}", file=sys.stderr)
        return 2
    closed = [t for t in books.trades if not t.is_open]
    pnls = [t.pnl for t in closed if t.pnl is not None]  # every closed trade has one
    totals = {
        "bot": identity.label,
        "pair": pair,
        "trades": len(books.trades),
        "open_trades": len(books.trades) - len(closed),
        "wins": sum(1 for pnl in pnls if pnl > 0),
        "losses": sum(1 for pnl in pnls if pnl <= 0),
        "net_pnl": str(sum(pnls, ZERO)),
        "fees": str(sum((t.fees for t in books.trades), ZERO)),
        "start_cash": str(start_cash),
        "cash": str(books.cash),
        "unsettled_orders": [p.order.userref for p in books.pending],
        "audit_hold": hold,
    }
    if args.csv:
        write_trades_csv(books.trades, sys.stdout)
    elif args.json:
        rows = [{"trade_id": t.trade_id, "open_order": t.open_fill.order_id, "open_time": t.open_fill.time, "volume": str(t.volume),
                 "entry_price": str(t.entry_price), "close_order": t.close_fill.order_id if t.close_fill else None,
                 "close_time": t.close_fill.time if t.close_fill else None, "exit_price": str(t.exit_price) if t.close_fill else None,
                 "fees": str(t.fees), "pnl": str(t.pnl) if t.close_fill else None} for t in books.trades]
        print(json.dumps({**totals, "trade_list": rows}))
    else:
        for trade in books.trades:
            print(ledger_line(trade, None))  # the books hold no price: an open trade's mark is not its entry
        print(fields_line({**totals, "pair": _altname(pair)}))  # XBTUSD as the user wrote it, no empty fields
    return 0


def _altname(pair: str) -> str:
    """The pair as a person names it (XBTUSD), from the books' Kraken id (XXBTZUSD); the id when it is not known."""
    from candlebot.assembly import offline_pair

    try:
        return offline_pair(pair).altname if pair else pair
    except ConfigError:
        return pair


if __name__ == "__main__":
    sys.exit(main())
