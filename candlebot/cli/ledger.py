"""``candlebot-ledger``: a bot's persisted trades and totals, read from its database without trading.

A state file that cannot be trusted (empty, corrupt, foreign, impossible values)
is reported in one line with exit code 2, as a bot would refuse it.
``--clear-hold`` is how a person lifts an order-mismatch hold (``candlebot.live.audit``) after
checking the account; a shortage hold lifts by itself once the account covers the books, after the
coins are put back or a trade whose coins are gone is taken off the books with ``--write-off TRADE_ID``
(the bot must be stopped: a running bot would still hold and sell the trade).
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from pathlib import Path

from candlebot.cli.oneline import OneLineParser, refuse
from candlebot.live.audit import CLEARED_KEY, FLEET_HOLD_KEY, HOLD_KEY
from candlebot.live.lock import BotLock, BotLocked
from candlebot.errors import ConfigError, StateWriteError
from candlebot.identity import BotIdentity
from candlebot.output.fills import exit_reason
from candlebot.output.lines import fields_line, ledger_line
from candlebot.money import ZERO
from candlebot.live.paths import default_state_dir
from candlebot.output.pnl import books_cost_decimals, net_pnl, net_pnl_line
from candlebot.output.report import write_trades_csv
from candlebot.live.store import BotStore


def main(argv: list[str] | None = None, prog: str = "candlebot-ledger") -> int:
    """``candlebot-ledger`` runs this directly (not through candlebot's main): ``| head`` ends it quietly here too.
    ``prog``: the name it was run by (``candlebot ledger`` through candlebot's main), for --help and errors."""
    try:
        return _ledger(argv, prog)
    except BrokenPipeError:
        from candlebot.cli.pipes import reader_gone

        return reader_gone()


def _ledger(argv: list[str] | None, prog: str) -> int:
    parser = OneLineParser(prog=prog, description="A bot's persisted trades and totals, read from its database without trading.")
    parser.add_argument("--state-dir", help="the bot's state directory (default: $CANDLEBOT_STATE_DIR or ~/.local/share/candlebot)")
    parser.add_argument("--name", help="bot name (default: the current folder's name)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON object: trades and totals")
    output.add_argument("--csv", action="store_true", help="one CSV row per trade")
    parser.add_argument("--clear-hold", action="store_true",
                        help="lift an order-mismatch hold once you have checked the account (the bot audits again at once)")
    parser.add_argument("--write-off", type=int, metavar="TRADE_ID",
                        help="take open trade TRADE_ID off the books: its coins left the account outside the bot "
                             "(stop the bot first); a shortage hold then lifts at the next audit")
    parser.add_argument("--new-key-file", metavar="FILE",
                        help="after rotating the API key of the same Kraken account: the live bot's books go on with "
                             "the key in FILE (stop the bot first)")
    args = parser.parse_args(argv)
    try:
        identity = BotIdentity.from_name(args.name)
        path = (Path(args.state_dir) if args.state_dir else default_state_dir()) / "bots" / f"{identity.label}.sqlite"
        if not path.is_file():
            raise ConfigError(f"no books for bot {identity.name!r} at {path}")
        lock = BotLock.beside(path)
        changes_books = args.write_off is not None or args.new_key_file is not None
        if changes_books:
            try:
                lock.acquire(f"bot {identity.name!r}")
            except BotLocked as exc:
                flag = "--write-off" if args.write_off is not None else "--new-key-file"
                raise ConfigError(f"{exc}; stop it (e.g. supervisorctl stop ...) before {flag}, then start it "
                                  "again") from None
        store = BotStore(path, now=time.time, create=False, writable=args.clear_hold or changes_books)
        try:
            owner = (store.meta("bot_name"), store.meta("bot_id"))
            if owner[0] is not None and owner != (identity.name, identity.bot_id):  # as the bot itself refuses it
                raise ConfigError(f"state file {path} holds the books of bot {owner[0]!r} (id {owner[1]}), not "
                                  f"{identity.name!r} (id {identity.bot_id}): a copied or renamed file; use --name "
                                  f"{owner[0]} where it belongs, or move it away")
            hold = store.meta(HOLD_KEY)
            shortage = store.meta(FLEET_HOLD_KEY)
            if args.clear_hold:
                store.set_meta(CLEARED_KEY, "1")  # a running bot drops its holds on orders declared never placed
            if args.clear_hold and hold:
                store.delete_meta(HOLD_KEY)
                print(f"audit hold cleared (it said: {hold})", file=sys.stderr)
                hold = None
            elif args.clear_hold and shortage:
                print(f"the hold says: {shortage}; it lifts by itself when an audit sees the account cover the books: "
                      "put the coins back, or take a trade off the books with --write-off TRADE_ID", file=sys.stderr)
            elif args.clear_hold:  # the marker above still reaches a running bot's in-memory recheck hold, if any
                print("no hold to clear (the books record none; a running bot also drops a hold on orders declared "
                      "never placed, if it has one)", file=sys.stderr)
            if args.new_key_file is not None:
                _adopt_key(store, args.new_key_file)
            if args.write_off is not None:
                gone = store.write_off(args.write_off)
                print(f"trade {gone.trade_id} ({gone.volume} {store.meta('base') or ''} bought at {gone.entry_price}) "
                      "is off the books; its cost stays spent", file=sys.stderr)
            books = store.load()
            cost_decimals = books_cost_decimals(store.status(), books.trades)
            start_cash = Decimal(store.meta("start_cash") or "0")
            pair = store.meta("pair") or ""
        finally:
            store.close()
            lock.release()
    except (StateWriteError, ConfigError) as exc:
        return refuse(prog, str(exc))
    closed = [t for t in books.trades if not t.is_open]
    pnls = [t.pnl for t in closed if t.pnl is not None]  # every closed trade has one
    totals = {
        "bot": identity.label,
        "pair": _altname(pair),  # XBTUSD as the user wrote it (and as status --json says), not XXBTZUSD
        "trades": len(books.trades),
        "open_trades": len(books.trades) - len(closed),
        "wins": sum(1 for pnl in pnls if pnl > 0),
        "losses": sum(1 for pnl in pnls if pnl <= 0),
        "net_pnl": str(net_pnl(books.trades, cost_decimals)),  # NET_PNL_MEANING: the figure report and status show
        "fees": str(sum((t.fees for t in books.trades), ZERO)),
        "start_cash": str(start_cash),
        "cash": str(books.cash),
        "unsettled_orders": [p.order.userref for p in books.pending],
        "audit_hold": hold,
        "fleet_hold": shortage,
    }
    # why each trade ended, from the sells the books recorded (what status counts and backtest --trades-csv writes)
    reasons = {t.trade_id: exit_reason(t, books.stop_loss_ids, backtest=False) for t in books.trades}
    if args.csv:
        write_trades_csv(books.trades, sys.stdout, reasons)
    elif args.json:
        rows = [{"trade_id": t.trade_id, "open_order": t.open_fill.order_id, "open_time": t.open_fill.time, "volume": str(t.volume),
                 "entry_price": str(t.entry_price), "close_order": t.close_fill.order_id if t.close_fill else None,
                 "close_time": t.close_fill.time if t.close_fill else None, "exit_price": str(t.exit_price) if t.close_fill else None,
                 "fees": str(t.fees), "pnl": str(t.pnl) if t.close_fill else None,
                 "exit_reason": reasons[t.trade_id].value} for t in books.trades]
        print(json.dumps({**totals, "trade_list": rows}))
    else:
        for trade in books.trades:
            print(ledger_line(trade, None))  # the books hold no price: an open trade's mark is not its entry
        print(net_pnl_line(Decimal(totals["net_pnl"])))
        print(fields_line(totals))  # no empty fields; the last line, for grep and the demo
    return 0


def _altname(pair: str) -> str:
    """The pair as a person names it (XBTUSD), from the books' Kraken id (XXBTZUSD); the id when it is not known."""
    from candlebot.assembly import offline_pair

    try:
        return offline_pair(pair).altname if pair else pair
    except ConfigError:
        return pair


def _adopt_key(store: BotStore, key_file: str) -> None:
    """A rotated key of the same account: the live books' account becomes the new key's fingerprint."""
    from candlebot.assembly import key_account

    recorded = store.meta("account")
    if recorded is None:
        raise ConfigError(f"{store.path.name} records no key yet: start the bot once with its key")
    if not recorded.startswith("kraken:"):
        raise ConfigError(f"{store.path.name} holds paper books: they never move to a Kraken account")
    account = key_account(key_file)
    store.set_meta("account", account)
    print(f"the books now go with the key in {key_file} (fingerprint {account.partition(':')[2]})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
