"""DogStatsD metrics: a real UDP socket on loopback receives what a real backtest process sends.

Hooking a running bot (next, with the bot runtime): start the Kraken simulator,
run ``python -m candlebot --paper ... --statsd --statsd-port <collector.port>
--stop-after 5`` as a process, then assert on ``collector.datagrams()`` the
same way as below, plus ``candlebot.price`` (TickerPolled), ``candlebot.heartbeat``
and ``candlebot.bot.started``/``stopped`` (the backtest emits none of those).
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from pathlib import Path

import pytest

from candlebot.output.sinks import metrics as m
from candlebot.output.sinks.queued import QueuedSink
from candlebot.output.sinks.settings import StatsdAddress
from candlebot.output.sinks.statsd import StatsdSink, statsd_client
from candlebot.output.sinks.tags import SinkTags
from tests.sinks.events import closed_trade, every_event
from tests.sinks.servers import Datagram, UdpCollector, closed_port, demo_args, run_backtest

pytestmark = pytest.mark.integration

SECRETS = {
    "KRAKEN_API_KEY": "kraken-key-AAAABBBBCCCCDDDD",
    "KRAKEN_API_SECRET": "a3Jha2VuLXNlY3JldC1zaG91bGQtbmV2ZXItbGVhaw==",
}
BACKTEST_TAGS = {"bot:backtest", "pair:XBTUSD", "strategy:sma_cross", "mode:backtest"}


@pytest.fixture
def collector():
    udp = UdpCollector()
    yield udp
    udp.close()


def by_name(datagrams: list[Datagram]) -> dict[str, list[Datagram]]:
    grouped: dict[str, list[Datagram]] = defaultdict(list)
    for datagram in datagrams:
        grouped[datagram.name].append(datagram)
    return grouped


def closed_pnls(trades_csv: str) -> list[float]:
    return sorted(float(row["pnl"]) for row in csv.DictReader(io.StringIO(trades_csv)) if row["pnl"])


def _data_args(source: str, shared_data: Path) -> list[str]:
    if source == "demo":
        return demo_args()
    return ["--data", str(shared_data / "kraken" / "xbtusd_1h_2023q1.csv"), "--strategy", "sma_cross"]


@pytest.mark.parametrize("source", ["demo", "kraken_1h"])
@pytest.mark.slow
def test_a_backtest_sends_its_metrics(source: str, shared_data: Path, collector: UdpCollector, tmp_path: Path) -> None:
    # Arrange
    args = _data_args(source, shared_data)
    # Act
    run = run_backtest([*args, "--statsd", "--statsd-port", str(collector.port)], tmp_path, env=SECRETS)
    collector.settle()
    # Assert
    assert run.returncode == 0, run.stderr
    summary = run.summary()
    datagrams = collector.datagrams()
    assert datagrams, "no datagram arrived"
    for datagram in datagrams:
        assert datagram.name in m.METRIC_NAMES, datagram.raw
        assert BACKTEST_TAGS <= set(datagram.tags), datagram.raw
    metrics = by_name(datagrams)
    closed = summary["trades"] - summary["open_trades"]
    assert summary["trades"] > 3 and closed > 3  # a run that trades, or this test proves nothing
    assert sum(d.value for d in metrics[m.TRADES_OPENED.name]) == summary["trades"]
    assert sum(d.value for d in metrics[m.TRADES_CLOSED.name]) == closed
    assert sum(d.value for d in metrics[m.TRADES_CLOSED.name] if d.tag("result") == "win") == summary["wins"]
    assert sorted(d.value for d in metrics[m.TRADE_PNL.name]) == closed_pnls(run.trades_csv)
    assert all(d.kind == "d" for d in metrics[m.TRADE_PNL.name])
    # the closed trades' net P/L; the summary's net P/L also counts the entry fees of trades still open
    assert metrics[m.PNL_CUMULATIVE.name][-1].value == pytest.approx(sum(closed_pnls(run.trades_csv)), abs=1e-6)
    assert metrics[m.FEES_CUMULATIVE.name][-1].value == pytest.approx(summary["fees"], abs=1e-9)
    assert sum(d.value for d in metrics[m.FEES_PAID.name]) == pytest.approx(summary["fees"], abs=1e-6)
    latencies = metrics[m.ORDER_LATENCY.name]
    assert len(latencies) == summary["trades"] + closed and {d.tag("side") for d in latencies} == {"buy", "sell"}
    assert all(0 <= d.value < 1 for d in latencies)
    candles = sum(d.value for d in metrics[m.CANDLES_CLOSED.name])
    assert summary["candles"] - 100 < candles <= summary["candles"]  # every candle after the warm-up
    assert metrics[m.CANDLE_CLOSE.name] and metrics[m.CASH.name] and metrics[m.EQUITY.name]
    assert metrics[m.EQUITY.name][-1].value > 0
    indicators = {d.tag("indicator") for d in metrics[m.INDICATOR.name]}
    assert indicators == {"sma_10", "sma_30"}
    assert all(math.isfinite(d.value) for d in metrics[m.INDICATOR.name])
    assert m.SINK_DROPPED.name not in metrics  # nothing dropped in a run this size
    everything = "\n".join(collector.lines()) + run.stdout + run.stderr
    for secret in SECRETS.values():
        assert secret not in everything


@pytest.mark.slow
def test_every_metric_name_in_the_table_is_emitted(collector: UdpCollector) -> None:
    # Arrange: the real sink, queue and DogStatsd client, every kind of event
    tags = SinkTags("kraken-sma-1", "XBTUSD", "sma_cross", "paper")
    sink = StatsdSink(statsd_client(StatsdAddress("127.0.0.1", collector.port), tags.statsd_tags()))
    queued = QueuedSink(sink, on_drops=sink.note_drops)
    # Act
    for event in every_event():
        queued(event)
    sink.note_drops("slack", 3)
    assert queued.close(timeout=5)
    collector.settle()
    # Assert
    metrics = by_name(collector.datagrams())
    assert set(metrics) == m.METRIC_NAMES
    constant = {"bot:kraken-sma-1", "pair:XBTUSD", "strategy:sma_cross", "mode:paper"}
    assert all(constant <= set(d.tags) for ds in metrics.values() for d in ds)
    assert [d.value for d in metrics[m.PRICE.name]] == [42001.5]
    assert {(d.tag("indicator"), d.value) for d in metrics[m.INDICATOR.name]} == {("sma_10", 42010.25), ("macd.signal", -1.5)}
    assert [d.value for d in metrics[m.CASH.name]] == [9483.40]
    assert [d.value for d in metrics[m.EQUITY.name]] == [10001.23]
    assert [d.value for d in metrics[m.HEARTBEATS.name]] == [2]
    assert [d.value for d in metrics[m.HEARTBEAT_FAILURES.name]] == [6]
    assert [(d.tag("side"), d.tag("error")) for d in metrics[m.ORDERS_FAILED.name]] == [("buy", "OrderRejected")]
    assert [d.tag("kind") for d in metrics[m.ERRORS.name]] == ["strategy"]
    assert [(d.tag("sink"), d.value) for d in metrics[m.SINK_DROPPED.name]] == [("slack", 3)]
    assert [d.value for d in metrics[m.TRADE_PNL.name]] == [float(closed_trade().pnl)]
    assert [(d.tag("side"), d.value) for d in metrics[m.FILLS_RECOVERED.name]] == [("buy", 1)]
    assert [d.value for d in metrics[m.AUDIT_PROBLEMS.name]] == [1]
    assert [d.value for d in metrics[m.AUDIT_HOLD.name]] == [1]
    kinds = {metric.name: {"gauge": "g", "count": "c", "distribution": "d"}[metric.kind] for metric in m.METRICS}
    assert all(d.kind == kinds[d.name] for ds in metrics.values() for d in ds)


@pytest.mark.slow
def test_metrics_are_off_by_default_even_with_the_agent_env(collector: UdpCollector, tmp_path: Path) -> None:
    run = run_backtest(demo_args(), tmp_path, env={"DD_AGENT_HOST": "127.0.0.1", "DD_DOGSTATSD_PORT": str(collector.port)})
    collector.settle()
    assert run.returncode == 0, run.stderr
    assert collector.payloads == []


@pytest.mark.slow
def test_the_agent_env_sets_the_address(collector: UdpCollector, tmp_path: Path) -> None:
    run = run_backtest(demo_args("--statsd"), tmp_path, env={"DD_AGENT_HOST": "127.0.0.1", "DD_DOGSTATSD_PORT": str(collector.port)})
    collector.settle()
    assert run.returncode == 0, run.stderr
    assert sum(d.value for d in collector.datagrams() if d.name == m.TRADES_OPENED.name) == run.summary()["trades"]


@pytest.mark.slow
def test_an_unreachable_agent_changes_nothing(tmp_path: Path) -> None:
    baseline = run_backtest(demo_args(), tmp_path, name="baseline.csv")
    run = run_backtest(demo_args("--statsd-port", str(closed_port())), tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.summary() == baseline.summary()
    assert run.trades_csv == baseline.trades_csv and run.trades_csv.count("\n") > 3


@pytest.mark.parametrize(
    ("extra", "env", "message"),
    [
        (["--statsd-port", "abc"], {}, "--statsd-port: 'abc' is not a port number (1-65535)"),
        (["--statsd-port", "70000"], {}, "--statsd-port: 70000 is not a port number (1-65535)"),
        (["--statsd"], {"DD_DOGSTATSD_PORT": "udp"}, "DD_DOGSTATSD_PORT: 'udp' is not a port number (1-65535)"),
        (["--statsd-host", "a b"], {}, "--statsd-host: 'a b' is not a host name or address"),
    ],
)
@pytest.mark.slow
def test_bad_statsd_settings_are_one_line_errors(extra: list[str], env: dict[str, str], message: str, tmp_path: Path) -> None:
    run = run_backtest(demo_args(*extra), tmp_path, env=env)
    assert run.returncode == 2
    assert run.stderr == f"candlebot: error: {message}\n"
    assert run.stdout == ""
