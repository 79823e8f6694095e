"""``candlebot-kraken-sim``: run the Kraken simulator as a process.

The first line on stdout is exactly ``listening on http://HOST:PORT`` (so that
a parent started with ``--port 0`` can read the port); logs go to stderr.
SIGTERM and SIGINT stop it cleanly with exit 0; a bad flag or unusable input
is one line on stderr and exit 2.

The second line is ``websocket on ws://HOST:PORT/v2``: Kraken's WebSocket v2 ``book`` channel for
``--ws-pairs`` (default ``--pair``), see ``wsserver``; its faults are the ``ws_*`` kinds of
``wsfaults`` (``--fault ws_drop:count=1``, ``ws_corrupt_checksum``, ``ws_duplicate``, ``ws_close``,
``ws_rate_limit``, ``ws_stall:stall_s=3``).

Faults: ``--fault KIND[:setting=value...]``, repeatable, with the settings of
``faults`` (probability, count, methods, ms, jitter_ms, status, processed,
mode, hang_s, delay_s, fill_ratio):

    --fault latency:ms=200:jitter_ms=50
    --fault http_error:probability=0.05:status=502
    --fault busy:processed=true:count=1:methods=AddOrder
    --fault drop_reply:count=1:methods=AddOrder:mode=hang:hang_s=10
    --fault malformed:probability=0.1:mode=truncated:methods=Ticker,OHLC
    --fault late_listing:delay_s=20:probability=0.3
    --fault thin_book:fill_ratio=0.5:count=1
    --fault slow_fill:delay_s=3

``--default-fee-currency by_side|quote``: who pays the fee when AddOrder has
neither fciq nor fcib (``SimConfig.default_fee_currency``).

They can be changed while running: ``POST /admin/faults`` (see ``server``).

(Also ``python -m candlebot.exchanges.kraken_sim``.) The simulator lives in ``candlebot.exchanges.kraken_sim``;
this command reaches it through ``candlebot.assembly.simulator``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Sequence

from candlebot.cli.args import parse_time
from candlebot.cli.oneline import OneLineParser, refuse
from candlebot.errors import ConfigError
from candlebot.assembly.simulator import (FEE_DEFAULTS, TIERS, Faults, SimConfig, build_simulator, is_ws_kind, parse_spec,
                                         parse_ws_spec, ws_pair_names)

log = logging.getLogger("candlebot.exchanges.kraken_sim")


def _balance(text: str) -> tuple[str, Decimal]:
    asset, sep, amount = text.partition("=")
    try:
        if not sep or not asset:
            raise InvalidOperation
        value = Decimal(amount)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"expected ASSET=AMOUNT (e.g. ZUSD=10000), got {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"balance must be a non-negative number, got {text!r}")
    return asset.strip(), value


def _decimal(what: str, zero: bool) -> Callable[[str], Decimal]:
    """An argparse type: a finite Decimal above 0 (or at it, when ``zero``)."""

    def convert(text: str) -> Decimal:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise argparse.ArgumentTypeError(f"expected a {what}, got {text!r}") from None
        if not value.is_finite() or value < 0 or (value == 0 and not zero):
            raise argparse.ArgumentTypeError(f"must be {'>=' if zero else '>'} 0, got {text!r}")
        return value

    return convert


_price = _decimal("price", zero=False)
_volume = _decimal("volume", zero=True)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def _time(text: str) -> int:
    """``--from``: a date, a datetime (UTC when naive) or unix seconds, as every other command reads it."""
    try:
        return int(parse_time(text, "--from"))
    except ConfigError:
        raise argparse.ArgumentTypeError(f"cannot read {text!r} as a date, datetime or unix seconds") from None


def build_parser(prog: str = "candlebot-kraken-sim") -> argparse.ArgumentParser:
    parser = OneLineParser(prog=prog,
                           description="A local HTTP server that speaks Kraken's REST API (market data, orders, faults).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, metavar="PORT", default=0, help="port; 0 picks a free one (default 0)")
    parser.add_argument("--data", type=Path, metavar="FILE", help="candle CSV (time,open,high,low,close,volume) or trades CSV "
                        "(time,price,volume[,side]) to replay; .gz ok")
    parser.add_argument("--from", dest="start", type=_time, metavar="TIME",
                        help="replay: the time to start at: date, datetime or unix seconds, UTC (default: the first candle)")
    # the older spelling and the other commands' aliases of --from, kept out of --help (README: Flag names)
    parser.add_argument("--start", "-s", "--since", dest="start", type=_time, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    parser.add_argument("--speed", type=_positive, metavar="N", default=1.0, help="simulated seconds per wall second (default 1)")
    parser.add_argument("-c", "--pair", default="XBTUSD", help="the pair to make a market in (default XBTUSD)")
    parser.add_argument("--start-price", type=_price, metavar="PRICE", help="generated market: price level (default per pair)")
    parser.add_argument("--history-days", type=int, metavar="DAYS", default=30, help="generated market: days of history (default 30)")
    parser.add_argument("--seed", type=int, metavar="N", default=1, help="seed of prices, book, ids and faults (default 1)")
    parser.add_argument("--api-key", metavar="KEY", help="API key accepted by the private endpoints")
    parser.add_argument("--api-secret", metavar="SECRET", help="its base64 secret (prefer --key-file: arguments are visible in ps)")
    parser.add_argument("--key-file", type=Path, metavar="FILE", action="append", default=[],
                        help="krakenex key file (line 1 key, line 2 secret); repeatable")
    parser.add_argument("--balance", type=_balance, action="append", default=[], metavar="ASSET=AMOUNT",
                        help="starting balance of every account, e.g. ZUSD=10000; repeatable")
    parser.add_argument("--tier", choices=sorted(TIERS), default="starter", help="rate-counter tier (default starter)")
    parser.add_argument("--fault", action="append", default=[], metavar="KIND[:k=v...]",
                        help="inject a fault (latency, http_error, unavailable, busy, drop_reply, malformed, "
                             "late_listing, thin_book, slow_fill); repeatable")
    parser.add_argument("--fault-seed", type=int, metavar="N", help="seed of the fault RNG (default: --seed)")
    parser.add_argument("--default-fee-currency", choices=list(FEE_DEFAULTS), default="by_side",
                        help="fee currency of orders without fciq/fcib: by_side (Kraken's AddOrder docs: quote for "
                             "buys, base for sells; default) or quote (always quote)")
    parser.add_argument("--volume-30d", type=_volume, default=Decimal(0), metavar="USD",
                        help="every account's 30-day trade volume at start: sets its fee tier (default 0)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--ws-pairs", default="", metavar="PAIR,PAIR",
                        help="pairs the WebSocket v2 book channel serves, comma-separated (default: --pair)")
    parser.add_argument("--ws-port", type=int, metavar="PORT", default=0, help="WebSocket port; 0 picks a free one (default 0)")
    return parser


def _keys(args: argparse.Namespace) -> dict[str, str]:
    keys: dict[str, str] = {}
    if (args.api_key is None) != (args.api_secret is None):
        raise ConfigError("--api-key and --api-secret go together")
    if args.api_key is not None:
        keys[args.api_key] = args.api_secret
    for path in args.key_file:
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise ConfigError(f"--key-file {path}: cannot read ({exc.strerror})") from None
        if len(lines) < 2 or not lines[0].strip() or not lines[1].strip():
            raise ConfigError(f"--key-file {path}: expected the key on line 1 and the secret on line 2")
        keys[lines[0].strip()] = lines[1].strip()
    return keys


def config_from_args(args: argparse.Namespace) -> SimConfig:
    faults = Faults(seed=args.fault_seed)
    for spec in [spec for spec in args.fault if not is_ws_kind(spec)]:
        kind, fault = parse_spec(spec)
        faults = replace(faults, **{kind: fault})
    return SimConfig(
        api_keys=_keys(args), balances=dict(args.balance), pair=args.pair, data=args.data, speed=args.speed,
        seed=args.seed, tier=args.tier, host=args.host, port=args.port, faults=faults, start=args.start,
        start_price=args.start_price, history_days=args.history_days,
        default_fee_currency=args.default_fee_currency, volume_30d=args.volume_30d,
    )


def main(argv: Sequence[str] | None = None, prog: str = "candlebot-kraken-sim") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        sim = build_simulator(config_from_args(args))
        ws_faults = dict(parse_ws_spec(spec) for spec in args.fault if is_ws_kind(spec))
        ws_pairs = ws_pair_names(args.ws_pairs)
        sim.start()
        ws_url = sim.serve_websocket(ws_pairs, port=args.ws_port, faults=ws_faults)
    except ConfigError as exc:
        return refuse(parser.prog, str(exc))
    except OSError as exc:
        return refuse(parser.prog, f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc})")
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    print(f"listening on {sim.url}", flush=True)
    print(f"websocket on {ws_url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
        log.info("stopped; counters %s", sim.counters())
    return 0
