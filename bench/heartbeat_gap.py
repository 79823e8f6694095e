"""The longest heartbeat gap of live bots sharing one API key, against the Kraken simulator at a rate tier.

    python bench/heartbeat_gap.py [--bots 5] [--poll 0.2] [--seconds 90] [--period 10] [--tier starter]
                                  [--fault drop_reply:probability=0.3:methods=AddOrder ...]

Starts the simulator (its own process, enforcing the tier's REST rate counter)
and ``--bots`` live bots as real processes, all on one key and one state
directory (so they share the nonce file and the client-side rate counter),
trading on every ``--period``-second candle (the test strategy ``Flip``) while
polling every ``--poll`` seconds. The default fault loses a third of the
AddOrder replies after the order was booked, so that reconciliation lookups
compete with orders and with the other bots for the key. After ``--seconds``
the bots are stopped with SIGTERM and their log files read: a heartbeat is a
ticker line or a failed-poll line; the gap is the time between two
consecutive heartbeats of one bot, from its first ticker line on (start-up is
not counted). Goal (issue 8): the longest gap <= 3 x poll + 1 s.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.bots import FLIP, KEY, SECRET  # noqa: E402

_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}):")
_HEARTBEAT = ("Current: ", "consecutive exchange failures")


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
            "--strategy", FLIP, "-p", repr(args.period / 60), "-t", str(args.poll)]
    return subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def heartbeats(log_text: str) -> list[float]:
    """Times of the heartbeat lines, from the first ticker line on."""
    times: list[float] = []
    for line in log_text.splitlines():
        match = _STAMP.match(line)
        if match and any(mark in line for mark in _HEARTBEAT):
            stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=timezone.utc)
            times.append(stamp.timestamp())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=5)
    parser.add_argument("--poll", type=float, default=0.2, help="-t of every bot, seconds")
    parser.add_argument("--period", type=float, default=10.0, help="candle seconds (the strategy trades on every candle)")
    parser.add_argument("--seconds", type=float, default=90.0, help="how long the bots run")
    parser.add_argument("--tier", default="starter")
    parser.add_argument("--fault", action="append", help="simulator fault (repeatable); "
                        "default drop_reply:probability=0.3:methods=AddOrder")
    parser.add_argument("--keep", action="store_true", help="keep the bots' folders (logs) and print where")
    args = parser.parse_args()
    faults = args.fault if args.fault is not None else ["drop_reply:probability=0.3:methods=AddOrder"]
    folder = Path(tempfile.mkdtemp(prefix="candlebot-heartbeat-"))
    try:
        measure(folder, args, faults)
    finally:
        if args.keep:
            print(f"logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def measure(folder: Path, args: argparse.Namespace, faults: list[str]) -> None:
    sim, url = start_simulator(folder, args.tier, faults)
    bots = {f"bot{i}": start_bot(folder, url, f"bot{i}", args) for i in range(args.bots)}
    try:
        time.sleep(args.seconds)
    finally:
        for process in bots.values():
            process.send_signal(signal.SIGTERM)
        for name, process in bots.items():
            try:
                _, err = process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                err = "killed after 20 s"
            if process.returncode:
                print(f"{name}: exit {process.returncode}: {err.strip()[-300:]}")
        sim.terminate()
        sim.wait(timeout=10)
    gaps: list[float] = []
    print(f"{args.bots} live bots on one key, tier {args.tier}, -t {args.poll}, {args.period:g}-second candles, "
          f"{args.seconds:g} s, faults: {', '.join(faults) or 'none'}")
    for name in bots:
        text = "".join(p.read_text() for p in sorted((folder / name / "logs").glob("*.log")))
        beats = heartbeats(text)
        own = [b - a for a, b in zip(beats, beats[1:])]
        gaps += own
        fills = text.count("recovered fill") + len(re.findall(r" (BUY|SELL) ", text))
        print(f"  {name}: {len(beats)} heartbeats, longest gap {max(own, default=float('nan')):.2f} s, "
              f"{text.count('order of')} failed orders, ledger/fill lines {fills}")
    if not gaps:
        sys.exit("no heartbeats recorded")
    gaps.sort()
    goal = 3 * args.poll + 1
    print(f"longest gap {gaps[-1]:.2f} s (goal <= {goal:.1f} s: {'met' if gaps[-1] <= goal else 'NOT met'}), "
          f"p99 {gaps[int(0.99 * (len(gaps) - 1))]:.2f} s, median {statistics.median(gaps):.2f} s, {len(gaps)} gaps")


if __name__ == "__main__":
    main()
