"""deploy/datadog/dashboard.json: importable shape, and every query shows a metric the StatsD sink emits.

The emitted set is ``candlebot.output.sinks.metrics.METRICS``, the constants the sink
itself sends with (test_statsd checks that each of them really goes out), plus
the order-book collector's ``candlebot.collector.metrics.METRICS`` (tests/collector checks those).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from candlebot.output.sinks import metrics as m
from candlebot.collector import metrics as collector_metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "datadog" / "dashboard.json"
WIDGET_TYPES = {"group", "timeseries", "query_value", "note"}
QUERY = re.compile(
    r"^(?P<agg>avg|sum|min|max|count|p50|p75|p90|p95|p99):(?P<metric>[a-z][a-z0-9_.]*)"
    r"\{(?P<scope>[^{}]*)\}"
    r"(?: by \{(?P<by>[^{}]*)\})?"
    r"(?P<functions>(?:\.(?:as_count|as_rate)\(\)|\.fill\(\w+\)|\.rollup\(\w+(?:, ?\d+)?\))*)$"
)
MUST_SHOW = [m.PRICE, m.CANDLE_CLOSE, m.EQUITY, m.CASH, m.PNL_CUMULATIVE, m.TRADE_PNL, m.FEES_PAID, m.FEES_CUMULATIVE,
             m.TRADES_OPENED, m.TRADES_CLOSED, m.ERRORS, m.ORDERS_FAILED, m.HEARTBEATS, m.HEARTBEAT_FAILURES]


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def widgets(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for widget in items:
        definition = widget["definition"]
        yield definition
        if definition["type"] == "group":
            yield from widgets(definition["widgets"])


def queries(dashboard: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for definition in widgets(dashboard["widgets"]):
        for request in definition.get("requests", []):
            for query in request.get("queries", []):
                found.append((definition["title"], query))
            if "q" in request:
                found.append((definition["title"], {"query": request["q"]}))
    return found


def test_the_dashboard_has_the_shape_the_api_takes(dashboard: dict[str, Any]) -> None:
    assert set(dashboard) >= {"title", "layout_type", "widgets", "template_variables"}
    assert dashboard["layout_type"] in ("ordered", "free")
    assert [(v["name"], v["prefix"]) for v in dashboard["template_variables"]] == [("bot", "bot"), ("pair", "pair")]
    for definition in widgets(dashboard["widgets"]):
        assert definition["type"] in WIDGET_TYPES, definition
        assert definition.get("title"), definition
        if definition["type"] in ("timeseries", "query_value"):
            assert definition["requests"], definition["title"]
            for request in definition["requests"]:
                names = {query["name"] for query in request["queries"]}
                assert all(query["data_source"] == "metrics" for query in request["queries"])
                used = {name for formula in request["formulas"] for name in re.findall(r"\bq\d+\b", formula["formula"])}
                assert used == names, definition["title"]
                expected = "scalar" if definition["type"] == "query_value" else "timeseries"
                assert request["response_format"] == expected
                if expected == "scalar":
                    assert all(query.get("aggregator") in ("last", "sum", "avg", "max", "min") for query in request["queries"])


def test_every_query_shows_an_emitted_metric_the_right_way(dashboard: dict[str, Any]) -> None:
    by_name = {metric.name: metric for metric in (*m.METRICS, *collector_metrics.METRICS)}
    found = queries(dashboard)
    assert len(found) >= 20
    for title, query in found:
        match = QUERY.match(query["query"])
        assert match, f"{title}: cannot parse {query['query']!r}"
        metric = by_name.get(match["metric"])
        assert metric is not None, f"{title}: {match['metric']} is not a metric candlebot sends"
        scope = {part.strip() for part in match["scope"].split(",")}
        assert scope == {"$bot", "$pair"}, f"{title}: {query['query']} is not filtered by $bot and $pair"
        grouped = {tag.strip() for tag in (match["by"] or "").split(",") if tag.strip()}
        assert grouped <= set(m.CONSTANT_TAGS) | set(metric.tags), f"{title}: {metric.name} has no tag {grouped}"
        if ".as_count()" in match["functions"] or ".as_rate()" in match["functions"]:
            assert metric.kind == "count", f"{title}: as_count/as_rate on a {metric.kind}"
        if match["agg"].startswith("p") or match["agg"] == "count":
            assert metric.kind == "distribution", f"{title}: percentiles need a distribution, {metric.name} is a {metric.kind}"


def test_the_dashboard_shows_price_money_trades_errors_and_heartbeats(dashboard: dict[str, Any]) -> None:
    shown = {QUERY.match(query["query"])["metric"] for _, query in queries(dashboard)}  # type: ignore[index]
    missing = [metric.name for metric in MUST_SHOW if metric.name not in shown]
    assert missing == []


def test_the_dashboard_has_a_collector_section_with_every_collector_metric(dashboard: dict[str, Any]) -> None:
    shown = {QUERY.match(query["query"])["metric"] for _, query in queries(dashboard)}  # type: ignore[index]
    assert [metric.name for metric in collector_metrics.METRICS if metric.name not in shown] == []


def test_the_readme_metrics_table_is_the_metrics_the_sink_sends() -> None:
    readme = (DASHBOARD.parents[2] / "README.md").read_text(encoding="utf-8")
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in readme.splitlines()
            if line.startswith("| `candlebot.") and line.count("|") == 7]
    expected = [[f"`{metric.name}`", metric.kind, metric.unit, ", ".join(metric.tags) or "-", metric.source, metric.description]
                for metric in m.METRICS]
    assert rows == expected
