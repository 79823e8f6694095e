"""Requests per second the Kraken simulator serves on loopback.

Starts ``candlebot-kraken-sim`` as its own process (tier ``none``, one key per
client thread so that nonces never race), then hammers it with plain
``krakenex`` clients: public Ticker, then signed Balance. Prints one line per
endpoint. ``measure`` can be imported (e.g. by ``bench/kraken_roundtrip.py``)
to measure any running simulator.

    /tmp/venv/bin/python bench/kraken_sim_throughput.py [--threads 4] [--seconds 3]
"""

from __future__ import annotations

import argparse
import base64
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import krakenex

REPO = Path(__file__).resolve().parent.parent


def measure(url: str, method: str, credentials: list[tuple[str, str]], seconds: float) -> tuple[float, int]:
    """(requests per second, errors) of ``len(credentials)`` threads calling ``method`` for ``seconds``."""
    counts = [0] * len(credentials)
    errors = [0] * len(credentials)
    start = threading.Barrier(len(credentials) + 1)
    deadline = [0.0]

    def worker(index: int, key: str, secret: str) -> None:
        api = krakenex.API(key, secret)
        api.uri = url
        nonce = itertools.count(time.time_ns())
        api._nonce = lambda: next(nonce)  # strictly increasing per key (krakenex's ms clock collides)
        call = (lambda: api.query_private(method, timeout=10)) if method in ("Balance", "TradeBalance") else \
               (lambda: api.query_public(method, {"pair": "XBTUSD"}, timeout=10))
        start.wait()
        try:
            while time.perf_counter() < deadline[0]:
                if call()["error"]:
                    errors[index] += 1
                counts[index] += 1
        except Exception as exc:  # noqa: BLE001 - a bench reports failures instead of dying with them
            errors[index] += 1
            print(f"client {index}: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            api.close()

    threads = [threading.Thread(target=worker, args=(i, k, s)) for i, (k, s) in enumerate(credentials)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - began), sum(errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    credentials = [(f"bench-{n}", base64.b64encode(os.urandom(64)).decode()) for n in range(args.threads)]
    with tempfile.TemporaryDirectory() as folder:
        flags = ["--port", "0", "--tier", "none", "--log-level", "WARNING"]
        for key, secret in credentials:
            path = Path(folder) / f"{key}.key"
            path.write_text(f"{key}\n{secret}\n")
            path.chmod(0o600)
            flags += ["--key-file", str(path)]
        log_path = Path(folder) / "sim.log"
        with open(log_path, "w") as log:
            server = subprocess.Popen([sys.executable, "-m", "candlebot.exchanges.kraken_sim", *flags], cwd=REPO, text=True,
                                      stdout=subprocess.PIPE, stderr=log, env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            line = server.stdout.readline()  # type: ignore[union-attr]
            if not line.startswith("listening on "):
                raise SystemExit(f"simulator did not start: {line!r}\n{log_path.read_text()}")
            url = line.strip().removeprefix("listening on ")
            for method in ("Ticker", "Balance"):
                rate, errors = measure(url, method, credentials, args.seconds)
                print(f"kraken-sim {method:8s} {rate:8.0f} req/s  ({args.threads} client threads, "
                      f"{args.seconds:.0f} s, {errors} errors)")
        finally:
            died = server.poll()
            if died is None:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=10)
            else:
                print(f"simulator exited early with code {died}:\n{log_path.read_text()[-2000:]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
