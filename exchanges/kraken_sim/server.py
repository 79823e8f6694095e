"""HTTP front of the simulator: Kraken's URL layout, its envelope, the faults, and the admin endpoints.

Routes:

- ``GET|POST /0/public/<Method>``: parameters from the query string (and a form body).
- ``POST /0/private/<Method>``: form body, ``API-Key``/``API-Sign`` headers.
- ``GET /admin/state``: time, market, balances, orders, counters, faults (JSON).
- ``GET /admin/faults``; ``POST /admin/faults`` with a ``Faults`` JSON object
  replaces the fault set (``{}`` clears it) and answers the new one.

Replies are Kraken's envelope with HTTP 200 (errors too); an unknown path or
method is HTTP 404 with ``EGeneral:Unknown method``. Faults wrap each API call
(see ``faults``): latency first, then an edge failure instead of the call (or,
``processed``, after running it), or a lost/broken reply after it; order
faults are handed to the venue as a ``draw`` for AddOrder. HTTP/1.1
keep-alive, as Kraken's edge serves.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from candlebot.errors import ConfigError
from candlebot.exchanges.kraken_sim.catalog import WholeCatalog
from candlebot.exchanges.kraken_sim.errors import BUSY, INTERNAL_ERROR, UNAVAILABLE, UNKNOWN_METHOD, KrakenError
from candlebot.exchanges.kraken_sim.faults import DropReply, Fault, FaultInjector, Faults, HttpError, Malformed
from candlebot.exchanges.kraken_sim.methods import PRIVATE_METHODS, PUBLIC_METHODS
from candlebot.exchanges.kraken_sim.params import parse_form
from candlebot.exchanges.kraken_sim.venue import Venue
from candlebot.exchanges.kraken_sim.wsadmin import configure_ws_faults, ws_depth, ws_faults_state

log = logging.getLogger(__name__)

_MAINTENANCE_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Kraken | Service unavailable</title></head>\n"
                     b"<body><h1>We'll be back soon</h1><p>Kraken is undergoing maintenance.</p></body></html>\n")


def edge_page(status: int) -> bytes:
    """The HTML body Cloudflare sends with a 5xx."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Origin Error"
    return (f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
            f"</body>\r\n</html>\r\n").encode()


def strip_fields(envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope with most of its result removed: descend single-key objects, keep only the first key.

    AddOrder loses ``txid``, Ticker keeps only ``a``, OHLC loses ``last``,
    Balance keeps one asset; a result with nothing to keep is dropped.
    """
    result = envelope.get("result")
    if not isinstance(result, dict) or not result:
        return {"error": envelope.get("error", [])}
    return {"error": envelope.get("error", []), "result": _first_only(result)}


def _first_only(node: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``node`` down its single-key objects, keeping the first key where there are more (copying that
    part only: a whole AssetPairs result is ~1 MB)."""
    if len(node) == 1:
        ((key, only),) = node.items()
        return {key: _first_only(only)} if isinstance(only, dict) and only else {}
    key = next(iter(node))
    return {key: json.loads(json.dumps(node[key]))}


def all_counters(venue: Venue, faults: FaultInjector) -> dict[str, int]:
    """The venue's counters plus ``fault_<kind>``: how often each fault fired."""
    values = venue.counter_values()
    values.update({f"fault_{kind}": fired for kind, fired in faults.fired().items()})
    return values


def full_state(venue: Venue, faults: FaultInjector) -> dict[str, Any]:
    """What ``GET /admin/state`` answers."""
    return {**venue.state(), "counters": all_counters(venue, faults), "faults": faults.describe()}


class SimServer(ThreadingHTTPServer):
    """The listening server; remembers open connections so that ``close`` can end keep-alive clients."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], venue: Venue, faults: FaultInjector) -> None:
        self.venue = venue
        self.faults = faults
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.ws_feed: Any = None  # the WebSocket endpoint (wsserver.WsFeed), when one runs
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close(self) -> None:
        """Stop serving and drop every connection, including requests held by a hang fault."""
        self.stopping.set()
        self.shutdown()
        self.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloudflare"
    sys_version = ""
    timeout = 120  # idle keep-alive connections end after this
    server: SimServer

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    # -- routing ----------------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if url.path.startswith("/admin/"):
            self._admin(url.path, body)
            return
        parts = url.path.split("/")
        access = parts[2] if len(parts) == 4 and parts[1] == "0" else ""
        method = parts[3] if access else ""
        known = PUBLIC_METHODS if access == "public" else PRIVATE_METHODS if access == "private" else frozenset()
        if method not in known:
            self._send_json(404, {"error": [UNKNOWN_METHOD]})
            return
        venue, faults = self.server.venue, self.server.faults
        venue.counters.add("requests")
        delay = faults.delay(method)
        if delay:
            self.server.stopping.wait(delay)
        edge = faults.before(method)
        if edge is not None and not getattr(edge[1], "processed", False):
            self._edge_failure(*edge)
            return
        try:
            if access == "public":
                params = parse_form(url.query)
                params.update(parse_form(body.decode("utf-8", "replace")) if body else {})
                envelope: dict[str, Any] = {"error": [], "result": ws_depth(self.server.ws_feed, venue, method, params)
                                            or venue.public(method, params)}
                bad = faults.bad_price(method)
                if bad is not None:
                    envelope["result"] = json.loads(json.dumps(envelope["result"]))  # replies are cached: spoil a copy
                    bad.spoil(method, envelope["result"])
            else:
                envelope = {"error": [], "result": venue.private(
                    method, self.headers.get("API-Key"), self.headers.get("API-Sign"), url.path, body,
                    draw=lambda kind: faults.draw(kind, method))}
        except KrakenError as exc:
            envelope = {"error": [exc.code]}
        except Exception:  # a simulator bug: answer as Kraken does, keep serving, count it
            log.exception("internal error in %s", method)
            venue.counters.add("internal_errors")
            envelope = {"error": [INTERNAL_ERROR]}
        if edge is not None:  # processed: the call ran, and the client gets the edge failure anyway
            self._edge_failure(*edge)
            return
        spoil = faults.after(method)
        if spoil is not None:
            self._spoiled(*spoil, envelope)
            return
        result = envelope.get("result")
        if isinstance(result, WholeCatalog) and not envelope["error"]:
            self._send(200, result.envelope_bytes(), "application/json; charset=utf-8")
            return
        self._send_json(200, envelope)

    def _admin(self, path: str, body: bytes) -> None:
        venue, faults = self.server.venue, self.server.faults
        if path == "/admin/state" and self.command == "GET":
            self._send_json(200, full_state(venue, faults))
        elif path == "/admin/faults" and self.command == "GET":
            self._send_json(200, {"faults": faults.describe(), **ws_faults_state(self.server.ws_feed)})
        elif path == "/admin/faults" and self.command == "POST":
            try:
                faults.configure(Faults.from_json(configure_ws_faults(self.server.ws_feed, json.loads(body or b"{}"))))
            except (ConfigError, ValueError) as exc:
                self._send_json(400, {"error": str(exc)})
                return
            log.info("faults set: %s", faults.describe())
            self._send_json(200, {"faults": faults.describe(), **ws_faults_state(self.server.ws_feed)})
        else:
            self._send_json(404, {"error": f"no admin endpoint {self.command} {path}"})

    # -- faults -----------------------------------------------------------------------------------------------

    def _edge_failure(self, kind: str, fault: Fault) -> None:
        if isinstance(fault, HttpError):
            self._send(fault.status, edge_page(fault.status), "text/html")
        else:
            self._send_json(200, {"error": [UNAVAILABLE if kind == "unavailable" else BUSY]})

    def _spoiled(self, kind: str, fault: Fault, envelope: dict[str, Any]) -> None:
        if isinstance(fault, DropReply):
            if fault.mode == "502":
                self._send(502, edge_page(502), "text/html")
            else:
                self.close_connection = True
                self.server.stopping.wait(fault.hang_s)
            return
        assert isinstance(fault, Malformed)
        if fault.mode == "html":
            self._send(200, _MAINTENANCE_PAGE, "text/html")
        elif fault.mode == "truncated":
            text = _encode(envelope)
            self._send(200, text[: max(1, len(text) // 2)], "application/json")
        else:
            self._send_json(200, strip_fields(envelope))

    # -- sending ----------------------------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(status, _encode(payload), "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        """Status, headers and body in one write: split writes meet Nagle and delayed ACKs (40 ms a reply)."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self._headers_buffer.append(b"\r\n")  # end_headers() without its separate flush
            self.wfile.write(b"".join(self._headers_buffer) + body)
            self._headers_buffer = []
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
