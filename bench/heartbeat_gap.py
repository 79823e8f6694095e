"""The longest gap between two log lines of live bots sharing one API key, against the Kraken simulator at a tier.

    python bench/heartbeat_gap.py [--bots 20] [--poll 0.5] [--period 3] [--every 4] [--seconds 90] [--tier starter]
                                  [--fault drop_reply:probability=0.3:methods=AddOrder ...] [--keep]

Starts the simulator (its own process, enforcing the tier's REST counter and
per-pair trading counter) and ``--bots`` live bots as real processes, all on one
key, one pair and one state directory (so they share the nonce file, the
client-side rate counters and the fill board), polling every ``--poll`` seconds
on ``--period``-second candles and flipping a position every ``--every``-th
candle (the test strategy ``Every``: the whole fleet trades on the same candle).
Start-up is reported (each bot's launch to its first ticker line: the poll
never waits for the start-up audit, and the fleet's start reads the account
once) and not counted in the gaps: the ``--seconds`` start when every bot has
logged its first ticker line (or after ``--startup`` seconds). Then the bots are
stopped with SIGTERM and their log files, state files and the simulator's state
are read:

- first poll: from a bot's launch to its first ticker line (its log's time);
- the gap: between two consecutive log lines of one bot, from its first ticker
  line on (start-up is not counted); goal (issue 17): <= 3 x poll + 1 s;
- orders: what each bot sent (its state file's orders) and skipped (log lines);
  every bot must send orders;
- nonce errors: the simulator's ``invalid_nonce`` count; goal 0;
- the books: the base asset of the fleet's books together (open trades, plus the
  fills of orders still being read at the stop, looked up in the simulator by
  userref) against the account's balance; goal: equal.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from candlebot.identity import BotIdentity  # noqa: E402
from candlebot.live.store import BotStore  # noqa: E402
from tests.support.bots import KEY, SECRET  # noqa: E402

EVERY = "tests.support.strategies:Every"
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}):")


def start_simulator(folder: Path, tier: str, faults: list[str]) -> tuple[subprocess.Popen, str]:
    key_file = folder / "sim.key"
    key_file.write_text(f"{KEY}\n{SECRET}\n")
    key_file.chmod(0o600)
    argv = [sys.executable, "-m", "candlebot.exchanges.kraken_sim", "--port", "0", "--tier", tier, "--key-file", str(key_file),
            "--balance", "ZUSD=1000000", "--log-level", "WARNING"]
    for fault in faults:
        argv += ["--fault", fault]
    sim = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, text=True)
    first = sim.stdout.readline().strip() if sim.stdout else ""
    if not first.startswith("listening on "):
        sys.exit(f"simulator did not start: {first!r}")
    return sim, first.split()[-1]


def start_bot(folder: Path, url: str, name: str, args: argparse.Namespace) -> subprocess.Popen:
    key_file = folder / "bot.key"
    if not key_file.exists():
        key_file.write_text(f"{KEY}\n{SECRET}\n")
        key_file.chmod(0o600)
    argv = [sys.executable, "-m", "candlebot", "-x", "kraken", "-c", "XBTUSD", "--live", "--key-file", str(key_file),
            "--kraken-url", url, "--kraken-tier", args.tier, "--state-dir", str(folder / "state"),
            "--log-dir", str(folder / name / "logs"), "--name", name, "--cash", "1000", "--quiet", "--no-statsd",
            "--strategy", EVERY, "--param", f"every={args.every}", "-p", repr(args.period / 60), "-t", str(args.poll)]
    return subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def line_times(log_text: str) -> list[float]:
    """Times of every log line, from the first ticker line on."""
    times: list[float] = []
    for line in log_text.splitlines():
        match = _STAMP.match(line)
        if match and (times or "Current: " in line):
            stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=timezone.utc)
            times.append(stamp.timestamp())
    return times


def log_text(folder: Path, name: str) -> str:
    return "".join(p.read_text() for p in sorted((folder / name / "logs").glob("*.log")))


def sim_state(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/admin/state", timeout=10) as reply:
        return json.loads(reply.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=20)
    parser.add_argument("--poll", type=float, default=0.5, help="-t of every bot, seconds")
    parser.add_argument("--period", type=float, default=3.0, help="candle seconds")
    parser.add_argument("--every", type=int, default=4, help="the bots trade on every N-th candle")
    parser.add_argument("--seconds", type=float, default=90.0, help="how long the bots run")
    parser.add_argument("--startup", type=float, default=400.0, help="longest wait for every bot's first ticker line")
    parser.add_argument("--tier", default="starter")
    parser.add_argument("--fault", action="append", default=[], help="simulator fault (repeatable), e.g. "
                        "drop_reply:probability=0.3:methods=AddOrder")
    parser.add_argument("--keep", action="store_true", help="keep the bots' folders (logs) and print where")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="candlebot-heartbeat-"))
    try:
        ok = measure(folder, args)
    finally:
        if args.keep:
            print(f"logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    sys.exit(0 if ok else 1)


def measure(folder: Path, args: argparse.Namespace) -> bool:
    sim, url = start_simulator(folder, args.tier, args.fault)
    launched = time.monotonic()
    launched_at: dict[str, float] = {}  # wall time of each launch, compared with its log's times
    bots = {}
    for i in range(args.bots):
        launched_at[f"bot{i}"] = time.time()
        bots[f"bot{i}"] = start_bot(folder, url, f"bot{i}", args)
    try:
        polling: dict[str, float] = {}
        while len(polling) < len(bots) and time.monotonic() - launched < args.startup:
            for name in bots:
                if name not in polling and "Current: " in log_text(folder, name):
                    polling[name] = time.monotonic() - launched
            time.sleep(0.5)  # the pace of the check, not a wait for an outcome
        spread = sorted(polling.values())
        print(f"start-up: {len(polling)}/{len(bots)} bots polling, first after {spread[0] if spread else float('nan'):.0f} s, "
              f"last after {spread[-1] if spread else float('nan'):.0f} s (launch to first ticker line)")
        time.sleep(args.seconds)
    finally:
        for process in bots.values():
            process.send_signal(signal.SIGTERM)
        for name, process in bots.items():
            try:
                _, err = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                err = "killed after 30 s"
            if process.returncode:
                print(f"{name}: exit {process.returncode}: {err.strip()[-300:]}")
        state = sim_state(url)
        sim.terminate()
        sim.wait(timeout=10)
    print(f"{args.bots} live bots on one key, tier {args.tier}, -t {args.poll}, {args.period:g}-second candles, "
          f"trading every {args.every} candles, {args.seconds:g} s, faults: {', '.join(args.fault) or 'none'}")
    executed = {int(o["userref"]): Decimal(o["vol_exec"]) * (1 if o["descr"]["type"] == "buy" else -1)
                for o in state["orders"]}
    gaps: list[float] = []
    first_polls: dict[str, float] = {}
    sent_by_bot: dict[str, int] = {}
    books = pending_fills = Decimal(0)
    pending_count = not_sent = 0
    for name in bots:
        text = log_text(folder, name)
        times = line_times(text)
        if times:
            first_polls[name] = times[0] - launched_at[name]
        own = [b - a for a, b in zip(times, times[1:])]
        gaps += own
        store = BotStore(folder / "state" / "bots" / f"{BotIdentity.from_name(name).label}.sqlite", now=time.time,
                         writable=False)
        refs = {int(o["userref"]) for o in store.orders()}  # every order decided (an intent is written first)
        sent_by_bot[name] = len(refs & executed.keys())  # those that reached Kraken
        deferred = text.count("RateBudgetDeferred")
        stored = store.load()
        books += sum((t.volume for t in stored.trades if t.is_open), Decimal(0))
        for intent in stored.pending:
            pending_count += 1
            pending_fills += executed.get(intent.order.userref, Decimal(0))
        print(f"  {name}: first poll {first_polls.get(name, float('nan')):.1f} s after launch, "
              f"longest gap {max(own, default=float('nan')):.2f} s, {sent_by_bot[name]} orders sent, "
              f"{deferred} not sent (deferred: trading counter or first balance read), {text.count('order skipped')} skipped, "
              f"{len(stored.pending)} fill(s) still being read at the stop")
        not_sent += deferred
    if not gaps:
        print("no log lines recorded")
        return False
    gaps.sort()
    goal = 3 * args.poll + 1
    account = Decimal(state["balances"].get(KEY, {}).get("XXBT", "0"))
    counters = state["counters"]
    silent = [name for name, sent in sent_by_bot.items() if sent == 0]
    print(f"longest gap {gaps[-1]:.2f} s (goal <= {goal:.1f} s: {'met' if gaps[-1] <= goal else 'NOT met'}), "
          f"p99 {gaps[int(0.99 * (len(gaps) - 1))]:.2f} s, median {statistics.median(gaps):.2f} s, {len(gaps)} gaps")
    polls = sorted(first_polls.values())
    if polls:
        print(f"first poll after launch: median {statistics.median(polls):.1f} s, longest {polls[-1]:.1f} s "
              f"({len(polls)}/{len(bots)} bots polled)")
    print(f"orders sent: {sum(sent_by_bot.values())} (per bot {min(sent_by_bot.values())}..{max(sent_by_bot.values())}); "
          f"bots that sent none: {len(silent)}; {not_sent} not sent (deferred for the budget, nothing placed)")
    print(f"simulator: {counters.get('invalid_nonce', 0)} invalid nonces, {counters.get('rate_limited', 0)} REST and "
          f"{counters.get('order_rate_limited', 0)} trading rate-limit refusals, {counters.get('private', 0)} private calls "
          f"({counters.get('private.Balance', 0)} Balance, {counters.get('private.TradeVolume', 0)} TradeVolume, "
          f"{counters.get('private.ClosedOrders', 0)} ClosedOrders)")
    balanced = books + pending_fills == account
    print(f"books: {books} XBT open in the fleet's books + {pending_fills} in {pending_count} fill(s) read after the stop "
          f"= {books + pending_fills}; account {account} XBT: {'equal' if balanced else 'NOT equal'}")
    return gaps[-1] <= goal and not silent and counters.get("invalid_nonce", 0) == 0 and balanced


if __name__ == "__main__":
    main()
