"""What the assembly builds from: frozen, typed settings that ``candlebot/cli`` makes from flags (nowhere else
reads flags): a backtest's, a running bot's, the collector's. The sinks' are ``SinkConfig``
(``candlebot.output.sinks.config``, made from the CLI's ``SinkFlags`` and the environment)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from candlebot.collector.tuning import RecorderTuning
from candlebot.data.candlecache import CandleCache
from candlebot.exchanges.kraken.config import KrakenConfig
from candlebot.identity import BotIdentity
from candlebot.live.crashes import CRASH_LIMIT, CRASH_WINDOW_S
from candlebot.pair import PairInfo
from candlebot.strategy.base import BotStrategy
from candlebot.strategy.params import StrategyParams

LOOKUP_EVERY_S = 1.0  # an unsettled order is looked up at most this often (the key's rate budget is shared)


@dataclass(frozen=True)
class BacktestSettings:
    """Everything a backtest needs, validated: built from flags before any work starts."""

    data: str  # a candle or trade file, or "demo"
    pair: PairInfo
    strategy: type[BotStrategy]
    params: StrategyParams
    fee_rate: Decimal
    cash: Decimal
    period_minutes: float | None = None  # None: the file's own period
    start: float | None = None  # first candle traded (earlier ones warm the indicators up)
    end: float | None = None  # candles from here on do not exist for the backtest
    stake: Decimal | None = None
    slippage_bps: Decimal = Decimal(0)
    cache: CandleCache | None = None  # None: parse the file every time
    max_slippage: Decimal = Decimal("0.005")
    spread: Decimal = Decimal(0)  # bid-ask spread as a fraction of the price: each fill pays half of it
    keep_gaps: bool = False  # the archive's convention (no flat candles for periods without trades); no bot sees that


@dataclass(frozen=True)
class BotSettings:
    """A running bot, validated before Kraken is first called.

    ``venue`` says where Kraken is and how fast it may be called; the bot's safety policy (one send per intent,
    no waiting for the trading counter inside the poll loop) is applied by ``build_bot`` whatever it says."""

    pair: str  # as typed; the venue tells its metadata
    period: int  # seconds
    poll_s: float
    strategy: type[BotStrategy]
    params: StrategyParams
    identity: BotIdentity
    venue: KrakenConfig
    state_dir: Path
    mode: str = "paper"  # paper | validate | live
    log_dir: Path = Path("logs")
    quiet: bool = False
    key_file: str | None = None  # None: $KRAKEN_API_KEY / $KRAKEN_API_SECRET (validate and live only)
    fee: Decimal | None = None  # None: the pair's taker fee
    fee_text: str | None = None  # --fee as typed, quoted back in messages
    cash: Decimal | None = None  # None: 10000 on paper, the account's quote balance when validate or live
    stake: Decimal | None = None
    max_slippage: Decimal = Decimal("0.005")
    max_deviation: Decimal = Decimal("0.05")
    reconcile_window: float = 120.0
    audit_interval: float = 600.0
    lookup_every: float = LOOKUP_EVERY_S
    crash_limit: int = CRASH_LIMIT  # crashes within crash_window_s that stop the bot (exit 2); 0: no limit
    crash_window_s: float = CRASH_WINDOW_S


@dataclass(frozen=True, kw_only=True)
class CollectorSettings(RecorderTuning):
    """A recorder, checked by the CLI: what to record and where, how it reports; how it subscribes, resyncs and
    bounds its queue are the recorder's own fields and defaults (``RecorderTuning``)."""

    name: str
    pairs: tuple[str, ...]  # as the bots name them
    db: str
    status_every_s: float = 10.0
