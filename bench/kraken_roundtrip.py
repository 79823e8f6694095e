"""AddOrder round trips on loopback: the candlebot Kraken adapter vs bare krakenex, and the simulator's throughput.

    python bench/kraken_roundtrip.py [--orders 400] [--seconds 3] [--workers 4]

Starts the Kraken simulator as its own process (``python -m candlebot.exchanges.kraken_sim``,
tier none, no faults), then measures:

1. AddOrder round trip (market order, reply with txid) through
   ``KrakenClient.add_order`` (nonce lease on the shared file, signed-data
   cleaning, envelope check, error translation) vs a bare ``krakenex.API``
   ``query_private("AddOrder", ...)``; p50/p99 in milliseconds.
2. A whole ``KrakenExchange.place_market_order`` (AddOrder, then QueryOrders
   until closed, parsed into a Fill).
3. The simulator's throughput: ``--workers`` processes calling public Ticker
   (plain krakenex) and private Balance (the adapter, one shared key) for
   ``--seconds``; requests per second from the simulator's own counter.

The adapter is made by the assembly's venue factory (``kraken_venue``, what ``build_bot`` calls by
default), as everywhere outside ``candlebot/assembly/`` and ``tests/unit/`` (tests/core/test_dependencies.py).
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import krakenex  # noqa: E402

from candlebot.assembly.venues import kraken_venue  # noqa: E402
from candlebot.venue import OrderRequest, Side  # noqa: E402
from candlebot.exchanges.kraken.client import RetryPolicy  # noqa: E402
from candlebot.exchanges.kraken.config import KrakenConfig  # noqa: E402
from candlebot.exchanges.kraken.keys import KrakenCredentials  # noqa: E402

ORDER = {"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.0001"}


def _secret() -> str:
    return base64.b64encode(os.urandom(64)).decode()


def start_simulator(keys: dict[str, str], workdir: Path) -> tuple[subprocess.Popen[str], str]:
    args = [sys.executable, "-m", "candlebot.exchanges.kraken_sim", "--port", "0", "--tier", "none", "--log-level", "WARNING",
            "--balance", "ZUSD=1000000000", "--balance", "XXBT=1000000"]
    for i, (key, secret) in enumerate(keys.items()):
        path = workdir / f"key{i}"
        path.write_text(f"{key}\n{secret}\n")
        path.chmod(0o600)
        args += ["--key-file", str(path)]
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    return proc, line.removeprefix("listening on ")


def counters(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/admin/state", timeout=10) as reply:
        return json.load(reply)["counters"]


def timed(call: Callable[[], object], count: int) -> list[float]:
    call()  # warm the connection
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{name:<44} n={len(samples):4d}  p50={statistics.median(samples):6.2f} ms  "
            f"p99={p99:6.2f} ms  mean={statistics.fmean(samples):6.2f} ms")


def _load(url: str, key: str, secret: str, state_dir: str, seconds: float, private: bool, ready: object,
          go: object, out: object) -> None:
    exchange = kraken_venue(KrakenConfig(url=url, tier="none"), KrakenCredentials(key, secret),
                            state_dir) if private else None
    api = krakenex.API()
    api.uri = url
    ready.put(1)  # type: ignore[attr-defined]
    go.wait()  # type: ignore[attr-defined]
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if exchange is not None:
            exchange.balances()
        else:
            api.query_public("Ticker", {"pair": "XBTUSD"}, timeout=10)
        done += 1
    out.put(done)  # type: ignore[attr-defined]


def throughput(url: str, key: str, secret: str, state_dir: str, workers: int, seconds: float,
               private: bool) -> tuple[float, int]:
    ctx = multiprocessing.get_context("spawn")
    out, ready, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_load, args=(url, key, secret, state_dir, seconds, private, ready, go, out))
             for _ in range(workers)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=60)
    before = counters(url)["requests"]
    go.set()  # every worker is loaded: they all run the same ``seconds``
    total = sum(out.get(timeout=seconds + 60) for _ in procs)
    for proc in procs:
        proc.join()
    served = counters(url)["requests"] - before  # /admin calls are not counted
    return served / seconds, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    keys = {"bench-adapter": _secret(), "bench-bare": _secret(), "bench-load": _secret()}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sim, url = start_simulator(keys, workdir)
        try:
            print(f"simulator {url} (separate process, tier none); python {sys.version.split()[0]}, "
                  f"{os.cpu_count()} CPUs")
            exchange = kraken_venue(KrakenConfig(url=url, tier="none", retry=RetryPolicy(attempts=1)),
                                    KrakenCredentials("bench-adapter", keys["bench-adapter"]), workdir / "state")
            refs = iter(range(1, 10**9))
            adapter = timed(lambda: exchange.client.add_order(ORDER, userref=next(refs)), args.orders)

            bare_api = krakenex.API("bench-bare", keys["bench-bare"])
            bare_api.uri = url
            bare_errors: list[str] = []

            def bare() -> None:
                reply = bare_api.query_private("AddOrder", dict(ORDER, userref=str(next(refs))), timeout=10)
                bare_errors.extend(reply.get("error", []))

            bare_samples = timed(bare, args.orders)
            place = timed(lambda: exchange.place_market_order(
                OrderRequest("XBTUSD", Side.BUY, Decimal("0.0001"), userref=next(refs))), args.orders // 2)

            print(summary("AddOrder via adapter (KrakenClient.add_order)", adapter))
            print(summary("AddOrder via bare krakenex", bare_samples))
            print(summary("place_market_order (AddOrder+QueryOrders)", place))
            print(f"adapter overhead at p50: {statistics.median(adapter) - statistics.median(bare_samples):+.2f} ms; "
                  f"bare krakenex errors: {len(bare_errors)} ({', '.join(sorted(set(bare_errors))) or 'none'})")

            public_rps, _ = throughput(url, "", "", str(workdir / "state"), args.workers, args.seconds, False)
            private_rps, _ = throughput(url, "bench-load", keys["bench-load"], str(workdir / "state"),
                                        args.workers, args.seconds, True)
            print(f"simulator throughput, {args.workers} client processes x {args.seconds:g}s: "
                  f"public Ticker {public_rps:,.0f} req/s; private Balance (one shared key, adapter) "
                  f"{private_rps:,.0f} req/s")
            final = counters(url)
            print(f"simulator counters: invalid_nonce={final['invalid_nonce']} "
                  f"invalid_signature={final['invalid_signature']} requests={final['requests']}")
        finally:
            sim.terminate()
            sim.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
