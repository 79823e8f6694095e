"""Real listeners on loopback for the sink tests: a UDP socket for DogStatsD, an HTTP server speaking Slack."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.wait import wait_until

REPO = Path(__file__).resolve().parents[2]


# -- DogStatsD ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Datagram:
    """One DogStatsD line: ``name:value|type|#tag,tag|c:...``."""

    raw: str
    name: str
    value: float
    kind: str
    tags: tuple[str, ...]

    @classmethod
    def parse(cls, line: str) -> Datagram:
        head, _, rest = line.partition("|")
        name, _, value = head.partition(":")
        fields = rest.split("|")
        tags: tuple[str, ...] = ()
        for extra in fields[1:]:
            if extra.startswith("#"):
                tags = tuple(extra[1:].split(","))
        return cls(line, name, float(value), fields[0], tags)

    def tag(self, key: str) -> str | None:
        for tag in self.tags:
            name, _, value = tag.partition(":")
            if name == key:
                return value
        return None


class UdpCollector:
    """Binds 127.0.0.1:<free port> and keeps every datagram it receives, from a reader thread."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.payloads: list[bytes] = []
        self._markers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                self.payloads.append(self.sock.recv(65535))
            except socket.timeout:
                continue
            except OSError:
                return

    def lines(self) -> list[str]:
        return [line for payload in list(self.payloads) for line in payload.decode().split("\n") if line]

    def datagrams(self) -> list[Datagram]:
        return [Datagram.parse(line) for line in self.lines()]

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every datagram already sent (by a sender that has finished) has been read.

        Loopback UDP queues datagrams in the order they arrive, so once a marker sent now is read, so is all before it.
        """
        self._markers += 1
        marker = f"#drained-{self._markers}".encode()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(marker, ("127.0.0.1", self.port))
        wait_until(lambda: marker in self.payloads, "the collector to read what was sent", timeout, interval=0.01)
        self.payloads.remove(marker)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        self.sock.close()


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- Slack -------------------------------------------------------------------------------


@dataclass
class SlackRequest:
    time: float
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(self.body)
        from urllib.parse import parse_qs

        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def text(self) -> str:
        return str(self.json().get("text", ""))


@dataclass
class SlackBehaviour:
    """How the server answers: ``ok``, ``500``, ``429`` (then ok), ``sleep`` (longer than any client timeout)."""

    mode: str = "ok"
    retry_after: str = "1"
    sleep_s: float = 30.0
    limited: int = 1  # how many 429s before answering ok
    served: int = field(default=0)


class SlackServer:
    """``POST /api/chat.postMessage`` (Web API JSON replies) and ``POST /services/...`` (webhook, ``ok``)."""

    def __init__(self, behaviour: SlackBehaviour | None = None) -> None:
        self.behaviour = behaviour or SlackBehaviour()
        self.requests: list[SlackRequest] = []
        self._stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.requests.append(SlackRequest(time.monotonic(), self.path, dict(self.headers.items()), body))
                server.answer(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def webhook_url(self, secret_path: str) -> str:
        return f"http://127.0.0.1:{self.port}/services/{secret_path}"

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        behaviour = self.behaviour
        behaviour.served += 1
        webhook = handler.path.startswith("/services/")
        if behaviour.mode == "sleep":
            self._stopping.wait(behaviour.sleep_s)
            return
        if behaviour.mode == "500":
            self._reply(handler, 500, b"internal error", "text/plain")
            return
        if behaviour.mode == "429" and behaviour.served <= behaviour.limited:
            body = b"rate_limited" if webhook else b'{"ok": false, "error": "ratelimited"}'
            self._reply(handler, 429, body, "text/plain" if webhook else "application/json", {"Retry-After": behaviour.retry_after})
            return
        if webhook:
            self._reply(handler, 200, b"ok", "text/plain")
        else:
            reply = {"ok": True, "channel": "C0000000001", "ts": f"{time.time():.6f}", "message": {"text": "..."}}
            self._reply(handler, 200, json.dumps(reply).encode(), "application/json")

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
               headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        return wait_until(lambda: len(self.requests) >= count, f"{count} Slack request(s)", timeout, interval=0.02)

    def close(self) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


# -- the real CLI ------------------------------------------------------------------------


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    elapsed_s: float
    trades_csv: str

    def summary(self) -> dict[str, Any]:
        data = json.loads(self.stdout.strip().splitlines()[-1])
        data.pop("elapsed_s")
        return data


def run_backtest(args: list[str], tmp_path: Path, *, env: dict[str, str] | None = None, timeout: float = 60.0,
                 name: str = "trades.csv") -> Run:
    """``python -m candlebot <args> --json --trades-csv <tmp>`` as a real process, in a clean environment."""
    csv_path = tmp_path / name
    base = {key: value for key, value in os.environ.items() if not key.startswith(("DD_", "SLACK_", "KRAKEN_", "DATADOG_"))}
    base["PYTHONPATH"] = str(REPO)
    base.update(env or {})
    argv = [sys.executable, "-m", "candlebot", *args, "--json", "--trades-csv", str(csv_path)]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, env=base, capture_output=True, text=True, timeout=timeout)
    elapsed = time.monotonic() - started
    trades = csv_path.read_text() if csv_path.exists() else ""
    return Run(proc.returncode, proc.stdout, proc.stderr, elapsed, trades)


def demo_args(*extra: str) -> list[str]:
    """A demo backtest with exact all-in sizing (--max-slippage 0): the figures the tests pin."""
    return ["--data", "demo", "-p", "60", "--strategy", "sma_cross", "--max-slippage", "0", *extra]

