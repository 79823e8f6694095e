"""``KrakenSimulator``: the Python face of the simulator, for tests, demos and other engineers.

    sim = KrakenSimulator(SimConfig(api_keys={"KEY": secret}, balances={"ZUSD": Decimal("10000")}))
    with sim:                      # or sim.start() ... sim.stop()
        api = krakenex.API("KEY", secret); api.uri = sim.url
        ...
        sim.set_faults(Faults(unavailable=Fault(count=1, methods=("AddOrder",))))
        assert sim.counters()["invalid_nonce"] == 0

The server runs in a background thread; every method here is thread-safe.
Pass ``clock`` (e.g. ``candlebot.clock.SimClock``) to drive simulator time,
order matching and rate counters by hand; by default the wall clock is used.
"""

from __future__ import annotations

import logging
import threading
from decimal import Decimal
from types import TracebackType
from typing import Any, Mapping, Sequence

from candlebot.clock import Clock, LiveClock
from candlebot.exchanges.kraken_sim.config import SimConfig
from candlebot.exchanges.kraken_sim.faults import FaultInjector, Faults
from candlebot.exchanges.kraken_sim.server import SimServer, all_counters, full_state
from candlebot.exchanges.kraken_sim.venue import Venue

log = logging.getLogger(__name__)


class KrakenSimulator:
    def __init__(self, config: SimConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self._venue = Venue(config, clock or LiveClock())
        self._faults = FaultInjector(config.faults, config.seed)
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self._ws: Any = None

    def __repr__(self) -> str:
        return f"KrakenSimulator({self.url if self._server else 'not started'}, pair={self._venue.pair.altname})"

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> KrakenSimulator:
        """Bind (port 0: a free port) and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._server = SimServer((self.config.host, self.config.port), self._venue, self._faults)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="kraken-sim", daemon=True)
        self._thread.start()
        log.info("Kraken simulator for %s listening on %s", self._venue.pair.altname, self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection (requests held by a hang fault end too). Idempotent."""
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.stop()
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> KrakenSimulator:
        return self.start() if self._server is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: set it as ``krakenex.API().uri``."""
        return f"http://{self.config.host}:{self.port}"

    def serve_websocket(self, pairs: Sequence[str] = (), *, port: int = 0,
                        faults: Mapping[str, Any] | None = None) -> str:
        """Start the WebSocket v2 ``book`` endpoint for ``pairs`` (default: the simulated pair); returns its URL.

        ``faults``: ``ws_*`` kinds (see ``wsfaults``). REST ``Depth`` of these pairs then answers
        the book the endpoint last published. Call after ``start``.
        """
        from candlebot.exchanges.kraken_sim.wsserver import start_feed

        if self._server is None:
            raise RuntimeError("start the simulator first")
        if self._ws is not None:
            raise RuntimeError("websocket already serving")
        self._ws = start_feed(self._venue, pairs, host=self.config.host, port=port, faults=faults or {})
        self._server.ws_feed = self._ws
        return self._ws.url

    # -- faults -----------------------------------------------------------------------------------------------

    def set_faults(self, faults: Faults) -> None:
        """Replace the fault set (counts and RNG restart); ``Faults()`` clears it."""
        self._faults.configure(faults)

    def faults(self) -> dict[str, Any]:
        """The fault set as JSON, with each kind's ``remaining`` count and how often it ``fired``."""
        return self._faults.describe()

    # -- inspection -------------------------------------------------------------------------------------------

    def now(self) -> float:
        """Simulator time (unix seconds): what the Time endpoint answers."""
        return self._venue.now()

    def price(self) -> Decimal:
        """The last trade price now."""
        return self._venue.price()

    def orders(self, userref: int | None = None, key: str | None = None) -> list[dict[str, Any]]:
        """Booked orders, oldest first, as Kraken order objects plus ``txid`` (validate-only orders never appear)."""
        return self._venue.orders(userref=userref, key=key)

    def balances(self, key: str) -> dict[str, Decimal]:
        """The account's balances (exact Decimals) after matching up to now."""
        return self._venue.balances(key)

    def counters(self) -> dict[str, int]:
        """requests, public, private, errors, invalid_key, invalid_signature, invalid_nonce, rate_limited,
        orders_placed, orders_validated, fills, and ``fault_<kind>`` for every fault that fired."""
        return all_counters(self._venue, self._faults)

    def state(self) -> dict[str, Any]:
        """What ``GET /admin/state`` answers."""
        return full_state(self._venue, self._faults)
