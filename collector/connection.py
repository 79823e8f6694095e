"""One WebSocket to Kraken v2 carrying up to 20 symbols' ``book`` subscriptions.

- Connect, subscribe every symbol (``snapshot: true``), read until the socket ends; then every
  symbol is marked lost (a gap opens), and the connection comes back after a jittered,
  exponential back-off capped at a few seconds (reset once a connection has delivered books for a
  while); every attempt of every connection spends one shared ``ConnectBudget`` (Kraken bans an
  IP that reconnects about 150 times in 10 minutes).
- A symbol that fails verification is resynced alone: unsubscribe, subscribe again (after its own
  back-off when it keeps failing); if no snapshot comes within ``resync_timeout_s``, a REST
  ``Depth`` snapshot is taken instead and the stream's next checksums confirm it.
- Heartbeats keep the connection fresh; the library answers protocol pings and pings the server
  itself; a silent socket (no message for ``stall_timeout_s``) is closed and reconnected.
- ``{"Error": "Exceeded msg rate"}``: the request it answers is unknown, so the connection backs
  off and starts over (every symbol resyncs).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import deque
from typing import Any, Awaitable, Callable, Sequence

import orjson
import websockets

from candlebot.collector.feed import SymbolFeed
from candlebot.collector.tuning import CONNECT_ATTEMPTS, CONNECT_WINDOW_S, RECONNECT_BASE_S, RECONNECT_CAP_S

log = logging.getLogger(__name__)

MAX_SYMBOLS = 20
RestSnapshot = Callable[[SymbolFeed], Awaitable[dict[str, Any] | None]]


def now_us() -> int:
    return time.time_ns() // 1000


class Backoff:
    """Exponential with full jitter: ``uniform(0, min(cap, base x 2^n))``, never below ``base / 2``.

    The jitter spreads many clients' reconnects; the cap (``RECONNECT_CAP_S``, 5 s) bounds how long the book stays
    unverified after the exchange is back: a research collector wants the shortest hole, and what keeps its attempts
    under Kraken's connection limit is the shared ``ConnectBudget``, not a long wait."""

    def __init__(self, base: float = RECONNECT_BASE_S, cap: float = RECONNECT_CAP_S,
                 rng: random.Random | None = None) -> None:
        self.base, self.cap, self.failures = base, cap, 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(self.failures, 32))  # 2^1024 overflowed: 1,024 failed attempts
        self.failures += 1
        return max(self.base / 2, self._rng.uniform(0, ceiling))

    def reset(self) -> None:
        self.failures = 0


class ConnectBudget:
    """At most ``attempts`` connection attempts per rolling ``window_s``, shared by a process's connections.

    Kraken's WebSocket sits behind Cloudflare, which bans an IP for 10 minutes after about 150 (re)connection attempts
    in a rolling 10 minutes; a ban would be a 10-minute gap on every pair. The default (100 per 600 s) keeps a margin;
    it is per process: several collectors on one address share Kraken's limit but not this budget. ``wait_s`` says how long until the next attempt is allowed; ``spend`` records one."""

    def __init__(self, attempts: int = CONNECT_ATTEMPTS, window_s: float = CONNECT_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts, self.window_s, self.clock = attempts, window_s, clock
        self._times: deque[float] = deque()

    def wait_s(self) -> float:
        now = self.clock()
        times = self._times
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return 0.0 if len(times) < self.attempts else times[0] + self.window_s - now

    def spend(self) -> None:
        self._times.append(self.clock())


class Connection:
    def __init__(self, url: str, feeds: Sequence[SymbolFeed], depth: int, *, rest_snapshot: RestSnapshot | None = None,
                 stall_timeout_s: float = 10.0, resync_timeout_s: float = 5.0, backoff: Backoff | None = None,
                 budget: ConnectBudget | None = None, name: str = "ws") -> None:
        if len(feeds) > MAX_SYMBOLS:
            raise ValueError(f"at most {MAX_SYMBOLS} symbols per connection")
        self.url = url
        self.name = name
        self.depth = depth
        self.feeds = {feed.instrument.symbol: feed for feed in feeds}
        self.rest_snapshot = rest_snapshot
        self.stall_timeout_s = stall_timeout_s
        self.resync_timeout_s = resync_timeout_s
        self.backoff = backoff or Backoff()
        self.budget = budget or ConnectBudget()
        self._symbol_backoff = {symbol: Backoff(0.2, 10.0) for symbol in self.feeds}
        self._resyncing: dict[str, asyncio.Task[None]] = {}
        self._last_resync: dict[str, float] = {}
        self._ws: Any = None
        self._req_id = 0
        self._last_rx = time.monotonic()
        self._stalled = False
        self.connects = 0

    # -- the loop ---------------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            wait = self.budget.wait_s()
            if wait > 0:  # Kraken's connection limit: wait rather than get the address banned for 10 minutes
                log.warning("%s: %d connection attempts in %.0f s; next attempt in %.1f s", self.name,
                            self.budget.attempts, self.budget.window_s, wait)
                try:
                    await asyncio.wait_for(stop.wait(), wait)
                except asyncio.TimeoutError:
                    pass
                continue
            self.budget.spend()
            reason = "disconnected"
            try:
                async with websockets.connect(self.url, ping_interval=20, ping_timeout=20, close_timeout=1,
                                              max_size=2**24, compression=None, open_timeout=10) as ws:
                    self._ws = ws
                    self.connects += 1
                    self._last_rx = time.monotonic()
                    await self._send({"method": "subscribe", "params": {"channel": "book", "symbol": list(self.feeds),
                                                                        "depth": self.depth, "snapshot": True}})
                    reason = await self._read(ws, stop)
            except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as exc:
                log.warning("%s: connection to %s failed: %s", self.name, self.url, type(exc).__name__)
                reason = "disconnected"
            finally:
                self._ws = None
                for task in self._resyncing.values():
                    task.cancel()
                self._resyncing.clear()
            if stop.is_set():
                return  # closed on purpose: no gap to count (the next start continues after a "restart" gap)
            lost = now_us()
            for feed in self.feeds.values():
                if feed.synced or feed.gap_start is None:
                    feed.fail(reason, lost)
            delay = self.backoff.next()
            log.info("%s: %s; reconnecting in %.2f s", self.name, reason, delay)
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except asyncio.TimeoutError:
                pass

    async def _read(self, ws: Any, stop: asyncio.Event) -> str:
        """Messages until the socket ends; returns why it ended."""
        self._stalled = False
        watchdog = asyncio.ensure_future(self._watch(ws, stop))
        loads, feeds = orjson.loads, self.feeds
        try:
            async for raw in ws:
                recv = now_us()
                self._last_rx = time.monotonic()
                try:
                    msg = loads(raw)
                except orjson.JSONDecodeError:
                    log.warning("%s: unreadable message %r...: reconnecting", self.name, raw[:80])
                    return "malformed"
                if msg.get("channel") == "book":
                    kind = msg.get("type")
                    for data in msg["data"]:
                        feed = feeds.get(data.get("symbol"))
                        if feed is None:
                            continue
                        if kind == "update":
                            problem = feed.on_update(data, recv)
                        else:
                            problem = feed.on_snapshot(data, recv)
                            if problem is None:
                                self._snapshot_arrived(feed)
                        if problem is not None:
                            self._resync(feed, problem)
                elif "Error" in msg or "error" in msg and "method" not in msg:
                    text = msg.get("Error") or msg.get("error")
                    log.warning("%s: Kraken says %r", self.name, text)
                    if "rate" in str(text).lower():
                        self.backoff.failures += 2  # slow down more than for a plain reconnect
                        return "rate_limited"
                elif msg.get("method") in ("subscribe", "unsubscribe") and not msg.get("success", True):
                    log.warning("%s: %s refused: %s", self.name, msg["method"], msg.get("error"))
            return "stalled" if self._stalled and not stop.is_set() else "disconnected"
        finally:
            watchdog.cancel()

    async def _watch(self, ws: Any, stop: asyncio.Event) -> None:
        """Close a silent socket; close on stop. Good books for a while reset the back-off."""
        started = time.monotonic()
        while True:
            try:
                await asyncio.wait_for(stop.wait(), 0.25)
                await ws.close()
                return
            except asyncio.TimeoutError:
                pass
            if time.monotonic() - self._last_rx > self.stall_timeout_s:
                log.warning("%s: no message for %.1f s: reconnecting", self.name, self.stall_timeout_s)
                self._stalled = True
                await ws.close()
                return
            if time.monotonic() - started > 30 and all(f.synced for f in self.feeds.values()):
                self.backoff.reset()

    # -- resync -----------------------------------------------------------------------------------------------

    def _resync(self, feed: SymbolFeed, reason: str) -> None:
        symbol = feed.instrument.symbol
        if symbol in self._resyncing or self._ws is None:
            return
        log.info("%s: %s resync (%s)", self.name, feed.pair, reason)
        self._resyncing[symbol] = asyncio.ensure_future(self._resubscribe(feed))

    def _snapshot_arrived(self, feed: SymbolFeed) -> None:
        task = self._resyncing.pop(feed.instrument.symbol, None)
        if task is not None:
            task.cancel()

    async def _resubscribe(self, feed: SymbolFeed) -> None:
        symbol = feed.instrument.symbol
        backoff = self._symbol_backoff[symbol]
        if time.monotonic() - self._last_resync.get(symbol, -1e9) > 30:
            backoff.reset()  # a symbol that resyncs now and then starts over; one that keeps failing backs off
        self._last_resync[symbol] = time.monotonic()
        params = {"channel": "book", "symbol": [symbol], "depth": self.depth}
        try:
            delay = backoff.next() if backoff.failures else 0
            while True:  # until a snapshot is stored: one refused by a full queue (the store away) is tried again
                await asyncio.sleep(delay)
                await self._send({"method": "unsubscribe", "params": params})
                await self._send({"method": "subscribe", "params": {**params, "snapshot": True}})
                await asyncio.sleep(self.resync_timeout_s)
                if not feed.synced and self.rest_snapshot is not None:
                    log.warning("%s: no snapshot for %s after %.1f s: REST Depth", self.name, feed.pair, self.resync_timeout_s)
                    data = await self.rest_snapshot(feed)
                    if data is not None and not feed.synced:
                        feed.reason = f"{feed.reason.removesuffix('(rest)')}(rest)"
                        feed.on_snapshot(data, now_us())
                if feed.synced:
                    return
                delay = backoff.next()
        except (websockets.exceptions.WebSocketException, OSError):
            pass  # the connection is going down: its loop resubscribes everything
        finally:
            if self._resyncing.get(symbol) is asyncio.current_task():
                del self._resyncing[symbol]

    async def _send(self, message: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None:
            return
        self._req_id += 1
        await ws.send(json.dumps({**message, "req_id": self._req_id}))
