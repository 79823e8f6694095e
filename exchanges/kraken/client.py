"""A thin, safe wrapper over ``krakenex.API``: one call in, a result or a candlebot error out.

What it adds to krakenex:
- a configurable base URL (``api.uri``) and a timeout on every call;
- nonces from the per-key ``NonceSequencer`` (krakenex's millisecond
  ``_nonce`` is overridden and cannot be used), with the key held until the
  reply arrives, and the shared client-side REST rate counter; AddOrder and
  CancelOrder cost nothing there and wait instead for the pair's shared trading
  counter (``tradecounter``), as Kraken counts them: every send, a retry after
  ``EOrder:Rate limit exceeded`` too, first takes its own place there, waiting
  at most ``order_wait_max`` (longer: nothing is sent, ``RateBudgetDeferred``);
- signed data that signs as it is sent: no ``None`` values, lists
  comma-joined, everything a string (krakenex signs ``urlencode(data)`` while
  ``requests`` encodes lists and ``None`` differently);
- the envelope checked and every failure translated (``errors``), once;
- public calls that never wait for a private one: they go through their own
  krakenex object and lock, never the key's nonce lock or rate counter;
- deferrable private reads (``private_reads``, ``private(..., deferrable=True)``)
  that never wait either: when the key is busy or the rate counter lacks room
  for all of them beside ``order_reserve`` units kept for orders, nothing is
  sent and ``RateBudgetDeferred`` says when to try again (a later loop
  iteration); they are admitted as a whole, so that bots sharing a key never
  spend budget on half a lookup, and never retried in place;
- retries with exponential backoff and jitter, on the injected clock, for
  reads and temporary failures only. An order is retried only when it was
  provably refused before processing (invalid nonce, rate limit, no
  connection); an outcome-unknown failure raises ``OrderOutcomeUnknown`` for
  the caller to reconcile.
"""

from __future__ import annotations

import logging
import os
import random
import urllib.parse
import urllib.request
import threading
from decimal import Decimal
from typing import Any, Mapping, Sequence

import krakenex
import requests

from candlebot.clock import Clock, LiveClock
from candlebot.errors import ConfigError, ExchangeError, RateLimitError, TemporaryExchangeError
from candlebot.exchanges.kraken.config import DEFAULT_URL, URL_ENV, RetryPolicy  # noqa: F401 (re-exported)
from candlebot.exchanges.kraken.errors import RateBudgetDeferred, translate_error_list, translate_exception
from candlebot.exchanges.kraken.keys import KrakenCredentials
from candlebot.exchanges.kraken.nonce import Lease, LeaseDeferred, NonceSequencer
from candlebot.exchanges.kraken.ratelimit import TRADING_METHODS, call_cost, trading_cost
from candlebot.exchanges.kraken.tradecounter import TradingCounter, TradingDeferred

log = logging.getLogger(__name__)

class _SequencedAPI(krakenex.API):
    """krakenex with nonces from the active lease only."""

    def __init__(self, key: str = "", secret: str = "") -> None:
        super().__init__(key, secret)
        self.lease: Lease | None = None

    def _nonce(self) -> int:
        if self.lease is None:
            raise RuntimeError("private Kraken call made outside a nonce lease")
        return self.lease.next_nonce()

    def __repr__(self) -> str:
        return f"<krakenex API uri={self.uri!r}>"


def signed_value(value: object) -> str:
    """One request value as the exact string that is signed and sent."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(signed_value(v) for v in value)
    return str(value)


def clean_params(params: Mapping[str, object] | None) -> dict[str, str]:
    """Drop ``None`` values, join lists with commas and stringify the rest."""
    return {k: signed_value(v) for k, v in (params or {}).items() if v is not None}


class KrakenClient:
    """Kraken REST calls with nonces, timeouts, retries and translated errors.

    ``credentials`` and ``sequencer`` are needed for private calls only.
    ``timeout`` is (connect, read) seconds or one number for both.
    ``order_reserve``: rate-counter units that deferrable reads leave free for orders.
    """

    def __init__(
        self,
        *,
        url: str = DEFAULT_URL,
        credentials: KrakenCredentials | None = None,
        sequencer: NonceSequencer | None = None,
        timeout: float | tuple[float, float] = 10.0,
        retry: RetryPolicy = RetryPolicy(),
        clock: Clock | None = None,
        rng: random.Random | None = None,
        order_reserve: float = 0.0,
        trading: TradingCounter | None = None,
        order_wait_max: float | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"Kraken URL must start with http:// or https://, got {url!r}")
        if credentials is not None and sequencer is None:
            raise ConfigError("a Kraken client with credentials needs a NonceSequencer")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retry = retry
        self.clock: Clock = clock or LiveClock()
        self.rng = rng or random.Random()
        self.sequencer = sequencer
        self.order_reserve = order_reserve
        self.trading = trading
        self.order_wait_max = order_wait_max
        self._credentials = credentials
        self._api = _SequencedAPI(credentials.key, credentials.secret) if credentials else _SequencedAPI()
        self._api.uri = self.url
        # requests re-reads the environment (proxies, CA bundle) on each call (~0.2 ms on the order
        # path); read it once here instead, and never proxy loopback (the simulator).
        session = self._api.session
        session.proxies = {} if _is_loopback(self.url) else {k: v for k, v in urllib.request.getproxies().items() if k != "no"}
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        session.trust_env = False
        self._lock = threading.Lock()
        # public calls have their own krakenex object (same session: one connection pool) and lock,
        # so that a thread reading the market never waits behind a private call holding the key
        self._public_api = _SequencedAPI()
        self._public_api.uri = self.url
        self._public_api.session = session
        self._public_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KrakenClient(url={self.url!r}, credentials={self._credentials!r})"

    @property
    def session(self) -> requests.Session:
        """krakenex's requests session: mount a transport adapter on it to observe or shape traffic."""
        return self._api.session

    def close(self) -> None:
        self._api.close()

    # -- one HTTP exchange --------------------------------------------------------------------

    def _send_public(self, method: str, data: dict[str, str]) -> Any:
        with self._public_lock:
            return self._public_api.query_public(method, data, timeout=self.timeout)

    def _send_private(self, method: str, data: dict[str, str], lease: Lease | None = None) -> Any:
        if lease is not None:
            return self._send_leased(method, data, lease)
        if self.sequencer is None:
            # krakenex raises its bare "key or secret is not set" Exception before taking a nonce.
            with self._lock:
                return self._api.query_private(method, data, timeout=self.timeout)
        with self.sequencer.lease(call_cost(method)) as lease:
            return self._send_leased(method, data, lease)

    def _send_leased(self, method: str, data: dict[str, str], lease: Lease) -> Any:
        with self._lock:
            self._api.lease = lease
            try:
                return self._api.query_private(method, data, timeout=self.timeout)
            finally:
                self._api.lease = None

    def _result(self, method: str, reply: Any, *, placing: bool, userref: int | None) -> Any:
        if not isinstance(reply, dict) or not isinstance(reply.get("error", []), list):
            raise TypeError(f"not a Kraken envelope: {type(reply).__name__}")
        errors = [str(e) for e in reply.get("error", [])]
        warnings = [e for e in errors if e.startswith("W")]
        errors = [e for e in errors if not e.startswith("W")]
        if warnings:
            log.warning("kraken %s warnings: %s", method, ", ".join(warnings))
        if errors:
            raise translate_error_list(method, errors, placing=placing, userref=userref)
        if "result" not in reply:
            raise KeyError("result")
        return reply["result"]

    def _call_once(self, method: str, data: dict[str, str], *, private: bool, placing: bool,
                   userref: int | None, lease: Lease | None = None) -> Any:
        try:
            if private:
                reply = self._send_private(method, dict(data), lease)
            else:
                reply = self._send_public(method, dict(data))
            return self._result(method, reply, placing=placing, userref=userref)
        except ExchangeError:
            raise
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            raise translate_exception(method, exc, placing=placing, userref=userref) from exc
        except OSError as exc:  # the nonce file (nothing was sent: the nonce is taken first)
            raise TemporaryExchangeError(f"Kraken {method}: nonce file unusable ({exc.strerror or exc}); nothing was sent") from exc
        except Exception as exc:
            if type(exc) is Exception:  # krakenex's bare Exception: missing key or secret
                raise translate_exception(method, exc, placing=placing, userref=userref) from exc
            raise

    # -- calls with retries -------------------------------------------------------------------

    def public(self, method: str, params: Mapping[str, object] | None = None) -> Any:
        """A public call's ``result``; temporary failures are retried."""
        return self._call(method, clean_params(params), private=False, placing=False, userref=None)

    def private(self, method: str, params: Mapping[str, object] | None = None, *, deferrable: bool = False) -> Any:
        """A private read (or an idempotent call such as CancelOrder); temporary failures are retried.

        ``deferrable``: sent as ``private_reads`` would (no wait, no retry).
        """
        if deferrable:
            return self.private_reads([(method, params)])[0]
        return self._call(method, clean_params(params), private=True, placing=False, userref=None)

    def private_reads(self, calls: Sequence[tuple[str, Mapping[str, object] | None]], *,
                      reserve: float | None = None) -> list[Any]:
        """Private reads sent now under one lease, or none and ``RateBudgetDeferred``; one attempt each.

        ``reserve``: counter units left free for others (default ``order_reserve``)."""
        if self.sequencer is None:
            raise ConfigError("private Kraken calls need credentials")
        if any(method in TRADING_METHODS for method, _ in calls):
            raise ValueError("private_reads sends reads only: orders and cancels wait for their pair's trading counter")
        cost = sum(call_cost(method) for method, _ in calls)
        try:
            with self.sequencer.try_lease(cost, reserve=self.order_reserve if reserve is None else reserve) as lease:
                return [self._call_once(method, clean_params(params), private=True, placing=False, userref=None, lease=lease)
                        for method, params in calls]
        except LeaseDeferred as exc:
            names = "+".join(method for method, _ in calls)
            raise RateBudgetDeferred(f"Kraken {names} deferred: {exc}; nothing was sent", retry_after=exc.wait) from None

    def add_order(self, params: Mapping[str, object], *, userref: int) -> Any:
        """AddOrder: retried only when provably refused before processing; else ``OrderOutcomeUnknown``."""
        data = clean_params({**params, "userref": userref})
        return self._call("AddOrder", data, private=True, placing=True, userref=userref)

    def _take_trading(self, method: str, data: Mapping[str, str], refused: ExchangeError | None) -> None:
        """Take the call's place on its pair's trading counter, before each send (``refused``: the last refusal).

        Bounded by ``order_wait_max``: nothing is sent when the counter would hold the caller up longer. Kraken
        refused every earlier send of this call (only refusals before processing are retried), so nothing was placed.
        """
        if self.trading is None or method not in TRADING_METHODS:
            return
        try:
            self.trading.take(data.get("pair", ""), trading_cost(method), max_wait=self.order_wait_max)
        except TradingDeferred as exc:
            sent = "nothing was sent" if refused is None else f"not sent again after Kraken refused it ({refused.code})"
            raise RateBudgetDeferred(f"Kraken {method} deferred: {exc}; {sent}", retry_after=exc.wait,
                                     code=None if refused is None else refused.code) from None

    def _call(self, method: str, data: dict[str, str], *, private: bool, placing: bool, userref: int | None) -> Any:
        attempt = 0
        refused: ExchangeError | None = None
        while True:
            if private:
                self._take_trading(method, data, refused)
            try:
                return self._call_once(method, data, private=private, placing=placing, userref=userref)
            except TemporaryExchangeError as exc:
                refused = exc
                # For AddOrder the translation already turned every may-have-happened failure into
                # OrderOutcomeUnknown; a TemporaryExchangeError here means it was refused unprocessed.
                attempt += 1
                if attempt >= self.retry.attempts or (exc.retry_after or 0) > self.retry.max_delay:
                    raise
                delay = self._backoff(exc, attempt - 1, private=private, method=method, data=data)
                log.warning("kraken %s failed (%s); retry %d/%d in %.2fs", method, exc,
                            attempt, self.retry.attempts - 1, delay)
                self.clock.sleep(delay)

    def _backoff(self, exc: TemporaryExchangeError, retry: int, *, private: bool, method: str = "",
                 data: Mapping[str, str] | None = None) -> float:
        if isinstance(exc, RateLimitError):
            if private and method in TRADING_METHODS:
                if self.trading is None:  # no model of the counter to wait for: back off on the clock
                    return self.retry.delay(retry, self.rng, self.retry.rate_limit_delay)
                self.trading.mark_full((data or {}).get("pair", ""))
                return self.rng.uniform(0.0, self.retry.base_delay)  # the next send waits for the trading counter
            if private and self.sequencer is not None and self.sequencer.limiter is not None:
                self.sequencer.mark_rate_limited()
                return self.rng.uniform(0.0, self.retry.base_delay)  # the next lease waits for the counter
            return self.retry.delay(retry, self.rng, self.retry.rate_limit_delay)
        return self.retry.delay(retry, self.rng)


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
