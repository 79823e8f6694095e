"""The simulator's WebSocket v2 endpoint (``ws://HOST:PORT/v2``): ``book`` subscriptions, heartbeats, faults.

Runs its own asyncio loop on a daemon thread. Speaks the subset of Kraken v2 a book client uses:
``subscribe``/``unsubscribe`` (channel ``book``, ``symbol`` list, ``depth`` 10/25/100/500/1000,
``snapshot``) with Kraken's acks, ``ping`` -> ``pong``, a ``status`` message on connect and a
``heartbeat`` every second. Every connection has one outgoing queue and one sender, so a
subscription's snapshot always precedes its updates. A publisher task plans each pair's change to
every new simulator second and sends its messages as they fall due within that second (see
``wsbook.DepthStream``), fanning them out to the subscribers of each depth; faults (``wsfaults``) are drawn per
connection and update message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import threading
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from candlebot.exchanges.kraken_sim.wsbook import DepthStream, Market
from candlebot.exchanges.kraken_sim.wsfaults import WsFaultInjector

log = logging.getLogger(__name__)
DEPTHS = (10, 25, 100, 500, 1000)
PUBLISH_EVERY_S = 0.02
HEARTBEAT_EVERY_S = 1.0


def _now_text() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Client:
    def __init__(self, connection: ServerConnection) -> None:
        self.connection = connection
        self.subscriptions: dict[str, int] = {}  # symbol -> depth
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.stalled_until = 0.0


class WsFeed:
    """The endpoint; ``markets`` by v2 symbol, ``sim_now`` gives simulator time."""

    def __init__(self, markets: Mapping[str, Market], sim_now: Callable[[], float], faults: WsFaultInjector, *,
                 host: str = "127.0.0.1", port: int = 0, seed: int = 1) -> None:
        self.markets = dict(markets)
        self.sim_now = sim_now
        self.faults = faults
        self.host = host
        self.port = port
        self._rng = random.Random(seed)
        self._streams: dict[tuple[str, int], DepthStream] = {}
        self._clients: set[_Client] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._lock = threading.Lock()  # the publisher and REST Depth read the same markets
        self.messages_sent = 0

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> WsFeed:
        self._thread = threading.Thread(target=self._run, name="kraken-sim-ws", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/v2"

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # noqa: BLE001 - handed to start() or logged
            if not self._ready.is_set():
                self._error = exc
                self._ready.set()
            else:
                log.exception("websocket endpoint failed")
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with serve(self._handle, self.host, self.port, ping_interval=None, compression=None) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            publisher = asyncio.ensure_future(self._publish())
            await self._stop.wait()
            publisher.cancel()
            for client in list(self._clients):
                client.connection.transport.abort()

    # -- REST Depth (called from the HTTP threads) ------------------------------------------------------------

    def depth(self, pair_id: str, count: int) -> dict[str, Any] | None:
        for market in self.markets.values():
            if market.pair.name == pair_id:
                with self._lock:
                    return market.depth_reply(count, math.floor(self.sim_now()))
        return None

    # -- publishing -------------------------------------------------------------------------------------------

    async def _publish(self) -> None:
        """Every few milliseconds: plan each new simulator second's changes, send whatever is due by now."""
        next_beat = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(PUBLISH_EVERY_S)
            now = self.sim_now()
            second = math.floor(now)
            for symbol, market in self.markets.items():
                with self._lock:
                    streams = [(depth, stream) for (sym, depth), stream in self._streams.items() if sym == symbol]
                    batches: dict[int, list[dict[str, Any]]] = {}
                    for depth, stream in streams:
                        batch = batches.setdefault(depth, [])
                        if market.published != second:
                            batch += stream.due(math.inf)  # what the last second still owed, then the new plan
                            stream.plan(second)
                        batch += stream.due(now)
                    market.published = second
                for client in list(self._clients):
                    depth = client.subscriptions.get(symbol)
                    if depth is not None:
                        for data in batches.get(depth, ()):
                            self._deliver(client, symbol, data)
            if loop.time() >= next_beat:
                next_beat = loop.time() + HEARTBEAT_EVERY_S
                for client in list(self._clients):
                    if client.subscriptions and loop.time() >= client.stalled_until:
                        client.outbox.put_nowait('{"channel":"heartbeat"}')

    def _deliver(self, client: _Client, symbol: str, data: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < client.stalled_until:
            return
        fault = self.faults.draw(symbol)
        kind = fault[0] if fault else None
        if kind == "ws_drop":
            return
        if kind == "ws_close":
            client.outbox.put_nowait(None)
            client.connection.transport.abort()
            return
        if kind == "ws_rate_limit":
            client.outbox.put_nowait('{"Error":"Exceeded msg rate"}')
            return
        if kind == "ws_stall":
            client.stalled_until = loop.time() + fault[1].stall_s  # type: ignore[index]
            return
        if kind == "ws_corrupt_checksum":
            data = {**data, "checksum": (data["checksum"] + 1) & 0xFFFFFFFF}
        text = json.dumps({"channel": "book", "type": "update", "data": [data]})
        client.outbox.put_nowait(text)
        if kind == "ws_duplicate":
            client.outbox.put_nowait(text)

    # -- one connection ---------------------------------------------------------------------------------------

    async def _handle(self, connection: ServerConnection) -> None:
        client = _Client(connection)
        self._clients.add(client)
        sender = asyncio.ensure_future(self._send_loop(client))
        client.outbox.put_nowait(json.dumps({"channel": "status", "type": "update", "data": [
            {"version": "2.0.9", "system": "online", "api_version": "v2", "connection_id": id(client)}]}))
        try:
            async for raw in connection:
                self._request(client, raw)
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            client.outbox.put_nowait(None)
            await asyncio.gather(sender, return_exceptions=True)

    async def _send_loop(self, client: _Client) -> None:
        while True:
            text = await client.outbox.get()
            if text is None:
                return
            try:
                await client.connection.send(text)
                self.messages_sent += 1
            except ConnectionClosed:
                return

    def _request(self, client: _Client, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
            method = message["method"]
        except (ValueError, KeyError, TypeError):
            client.outbox.put_nowait(json.dumps({"error": "EGeneral:Invalid arguments", "success": False,
                                                 "time_in": _now_text(), "time_out": _now_text()}))
            return
        req_id = message.get("req_id")
        if method == "ping":
            pong: dict[str, Any] = {"method": "pong"}
            if req_id is not None:  # Kraken echoes a req_id only when the ping carried one
                pong["req_id"] = req_id
            pong.update({"time_in": _now_text(), "time_out": _now_text()})
            client.outbox.put_nowait(json.dumps(pong))
            return
        params = message.get("params") or {}
        if method not in ("subscribe", "unsubscribe") or params.get("channel") != "book":
            self._ack(client, method, req_id, None, "Method not found" if method not in ("subscribe", "unsubscribe")
                      else "Channel not supported")
            return
        depth = params.get("depth", 10)
        if depth not in DEPTHS:
            self._ack(client, method, req_id, None, "EGeneral:Invalid arguments:depth")
            return
        for symbol in params.get("symbol") or []:
            if symbol not in self.markets:
                self._ack(client, method, req_id, symbol, f"Currency pair not supported {symbol}")
            elif method == "subscribe":
                if symbol in client.subscriptions:
                    self._ack(client, method, req_id, symbol, "Already subscribed")
                    continue
                client.subscriptions[symbol] = depth
                self._ack(client, method, req_id, symbol, None, depth, snapshot=bool(params.get("snapshot", True)))
                if params.get("snapshot", True):
                    with self._lock:
                        stream = self._stream(symbol, depth)
                        data = stream.snapshot(self.markets[symbol].published or math.floor(self.sim_now()))
                    fault = self.faults.draw(symbol, snapshot=True)
                    kind = fault[0] if fault else None
                    if kind == "ws_drop":
                        continue
                    if kind == "ws_corrupt_checksum":
                        data = {**data, "checksum": (data["checksum"] + 1) & 0xFFFFFFFF}
                    client.outbox.put_nowait(json.dumps({"channel": "book", "type": "snapshot", "data": [data]}))
            else:
                if client.subscriptions.pop(symbol, None) is None:
                    self._ack(client, method, req_id, symbol, "Subscription Not Found")
                else:
                    self._ack(client, method, req_id, symbol, None, depth)

    def _stream(self, symbol: str, depth: int) -> DepthStream:
        stream = self._streams.get((symbol, depth))
        if stream is None:
            stream = self._streams[(symbol, depth)] = DepthStream(self.markets[symbol], depth,
                                                                  random.Random(self._rng.random()))
        return stream

    def _ack(self, client: _Client, method: str, req_id: Any, symbol: str | None, error: str | None,
             depth: int | None = None, *, snapshot: bool = True) -> None:
        reply: dict[str, Any] = {"method": method, "success": error is None, "time_in": _now_text(),
                                 "time_out": _now_text()}
        if error is None:
            reply["result"] = {"channel": "book", "symbol": symbol, "depth": depth}
            if method == "subscribe":  # only a subscription says whether a snapshot comes
                reply["result"]["snapshot"] = snapshot
        else:
            reply["error"] = error
            if symbol is not None:
                reply["symbol"] = symbol
        if req_id is not None:
            reply["req_id"] = req_id
        client.outbox.put_nowait(json.dumps(reply))

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "symbols": sorted(self.markets), "clients": len(self._clients),
                "messages_sent": self.messages_sent, "faults": self.faults.describe()}


def start_feed(venue: Any, pairs: Any, *, host: str, port: int, faults: Mapping[str, Any]) -> WsFeed:
    """Markets for ``pairs`` (the venue's own book for its pair, seeded ones for the others), served."""
    from decimal import Decimal

    from candlebot.exchanges.kraken_pairs import find_pair, normalise, offline_pairs
    from candlebot.exchanges.kraken_sim.venue import _CASH_QUOTES, DEFAULT_PRICES, TRADE_NOTIONAL
    from candlebot.exchanges.kraken_sim.wsbook import generated_market

    config = venue.config
    known = offline_pairs()
    markets: dict[str, Market] = {}
    for index, name in enumerate(pairs or [venue.pair.altname]):
        pair = find_pair(known, name)
        if pair.name == venue.pair.name:
            market = Market(pair, venue.path, venue.books)
        else:
            price = Decimal(DEFAULT_PRICES.get(normalise(pair.altname), "100"))
            volume = TRADE_NOTIONAL / price if pair.quote in _CASH_QUOTES else Decimal("0.1")
            market = generated_market(pair, seed=config.seed * 1000 + index + 1, origin=venue.now(),
                                      history_days=config.history_days, price=price,
                                      trade_lots=max(1.0, float(volume.scaleb(pair.lot_decimals))))
        markets[market.symbol] = market
    injector = WsFaultInjector(config.seed)
    injector.configure(faults)
    return WsFeed(markets, venue.now, injector, host=host, port=port, seed=config.seed).start()


def ws_pair_names(text: str) -> list[str]:
    """``--ws-pairs``: comma-separated names, each checked against the AssetPairs snapshot (ConfigError)."""
    from candlebot.exchanges.kraken_pairs import find_pair, offline_pairs

    names = [name.strip() for name in text.split(",") if name.strip()]
    known = offline_pairs()
    for name in names:
        find_pair(known, name)
    return names
