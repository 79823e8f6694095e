"""The HTML report: one self-contained file (uPlot and the data inlined), readable offline.

Why uPlot: a 50 kB canvas chart (MIT, vendored in ``vendor/``) that draws
hundreds of thousands of points per frame and exposes draw hooks, so candles
and fill markers are painted straight onto its canvas; plotly/bokeh put every
point into a JSON object graph and stall long before a million candles. The
file carries every candle packed (``columns.py``); the browser groups them into
coarser candles for display when zoomed out and back into the real ones when
zoomed in, and computes the equity at every candle from the fills.
"""

from __future__ import annotations

import base64
import html
import json
import time
from importlib import resources
from typing import Callable

import numpy as np

from candlebot.output.pnl import NET_PNL, NET_PNL_MEANING
from candlebot.output.columns import ColumnPack, decimals_of, display_decimals, ticks
from candlebot.output.fills import ExitReason
from candlebot.output.lines import duration_text
from candlebot.output.metrics import Metrics
from candlebot.output.report_data import Decision, ReportData

REASONS = [reason.value.replace("_", " ") for reason in ExitReason]


def build_html(data: ReportData, step: Callable[[str], None] = lambda _: None) -> str:
    """``step(name)`` is called as each stage starts (a progress bar's hook)."""
    step("candles")
    pack = ColumnPack()
    places = max(decimals_of(data.opens), decimals_of(data.highs), decimals_of(data.lows), decimals_of(data.closes))
    o, h, l, c = (ticks(x, places) for x in (data.opens, data.highs, data.lows, data.closes))
    times = np.asarray(data.times, dtype=np.int64)
    pack.add("time", times, 0, delta=True)
    pack.add("open_gap", o - np.r_[np.int64(0), c[:-1]], places, delta=False)
    pack.add("high_ext", h - np.maximum(o, c), places, delta=False)
    pack.add("low_ext", np.minimum(o, c) - l, places, delta=False)
    pack.add("close_move", c - o, places, delta=False)
    step("indicator lines")
    lines = []
    for line in data.lines:
        overlay = line.overlays(data.closes)
        pack.add_floats(f"line:{line.name}", line.values, display_decimals(line.values, 0))
        lines.append({"name": line.name, "overlay": overlay})
    step("fills")
    columns = dict(pack.meta)
    fills = ColumnPack()
    f = data.fills
    fills.add("time", ticks(np.array([m.time for m in f]), 0), 0, delta=True)
    fills.add("side", np.array([0 if m.side == "buy" else 1 for m in f], dtype=np.int64), 0, delta=False)
    for name, places_, values in (("price", data.price_decimals, [m.price for m in f]),
                                  ("volume", data.volume_decimals, [m.volume for m in f]),
                                  ("cost", data.cost_decimals, [m.cost for m in f]),
                                  ("fee", data.cost_decimals, [m.fee for m in f]),
                                  ("pnl", data.cost_decimals, [m.pnl or 0 for m in f])):
        fills.add(name, ticks(np.array([float(v) for v in values]), places_), places_, delta=name == "price")
    fills.add("trade", np.array([m.trade_id for m in f], dtype=np.int64), 0, delta=True)
    reasons = [r.value for r in ExitReason]
    fills.add("reason", np.array([reasons.index(m.reason) if m.reason in reasons else len(reasons) for m in f], dtype=np.int64), 0, delta=False)
    fill_columns = pack.extend(fills)
    step("compress")
    meta = {
        "period": data.period_s, "start_cash": data.start_cash, "columns": columns, "fill_columns": fill_columns, "lines": lines,
        "reasons": REASONS, "decimals": {"price": data.price_decimals, "volume": data.volume_decimals, "cost": data.cost_decimals},
    }
    blob = base64.b64encode(pack.deflated()).decode("ascii")
    step("page")
    assets = resources.files("candlebot.output")
    pieces = {
        "@@TITLE@@": html.escape(data.title),
        "@@SUBTITLE@@": html.escape(data.subtitle),
        "@@UPLOT_CSS@@": (assets / "vendor" / "uPlot.min.css").read_text(encoding="utf-8"),
        "@@LINES_PANE@@": '<div class="pane-title">Indicators</div><div id="cb-lines"></div>' if any(not x["overlay"] for x in lines) else "",
        "@@TABLES@@": metrics_tables(data.metrics) + decisions_table(data.decisions),
        "@@META@@": json.dumps(meta).replace("</", "<\\/"),
        "@@DATA@@": blob,
        "@@UPLOT_JS@@": (assets / "vendor" / "uPlot.iife.min.js").read_text(encoding="utf-8"),
        "@@APP_JS@@": (assets / "assets" / "report.js").read_text(encoding="utf-8"),
    }
    page = (assets / "assets" / "report.html").read_text(encoding="utf-8")
    for marker, text in pieces.items():
        page = page.replace(marker, text)
    return page


def metrics_rows(m: Metrics) -> list[tuple[str, str]]:
    """The metrics as (label, value) text, shared by the HTML table and the PNG."""

    def num(value: object, spec: str, suffix: str = "") -> str:
        return "n/a" if value is None else f"{value:{spec}}{suffix}"

    return [
        ("gross P/L (closed, before fees)", f"{m.gross_pnl:,.2f}"),
        ("fees", f"{m.fees:,.2f}"),
        ("fees / gross P/L", num(m.fees_pct_of_gross, ".1f", "%")),
        (f"{NET_PNL} ({NET_PNL_MEANING})", f"{m.net_pnl:f}"),  # exact, as ledger and status print it
        ("unrealized P/L (open trades at the last close - their cost)", f"{m.unrealized_pnl:,.2f}"),
        ("total P/L (net + unrealized = final equity - start cash)", f"{m.total_pnl:,.2f}"),
        ("equity", f"{m.start_cash:,.2f} -> {m.final_equity:,.2f}"),
        ("return", f"{m.return_pct:+.2f}%"),
        ("CAGR", num(m.cagr_pct, "+.2f", "%")),
        ("buy & hold", f"{m.buy_hold_return_pct:+.2f}%"),
        ("max drawdown", f"{m.max_drawdown_pct:.2f}%"),
        ("longest drawdown", duration_text(m.max_drawdown_duration_s)),
        ("Sharpe (daily, sqrt 365)", num(m.sharpe, ".2f")),
        ("Sortino (daily, sqrt 365)", num(m.sortino, ".2f")),
        ("Calmar", num(m.calmar, ".2f")),
        ("trades (closed / open)", f"{m.trades} ({m.closed_trades} / {m.open_trades})"),
        ("win rate", num(m.win_rate_pct, ".1f", "%")),
        ("profit factor", num(m.profit_factor, ".2f")),
        ("expectancy per trade", num(m.expectancy, ",.2f")),
        ("holding avg / max", f"{duration_text(m.avg_holding_s)} / {duration_text(m.max_holding_s)}"),
        ("exposure", f"{m.exposure_pct:.1f}%"),
        ("exits", m.exits_text()),
    ]


def metrics_tables(m: Metrics) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td class=num>{html.escape(v)}</td></tr>" for k, v in metrics_rows(m))
    months = "".join(
        f"<tr><td>{r.month}</td><td class='num {'neg' if r.return_pct < 0 else 'pos'}'>{r.return_pct:+.2f}%</td></tr>"
        for r in m.monthly_returns
    )
    return (f"<table id='cb-metrics'><tr><th>metric</th><th class=num>value</th></tr>{rows}</table>"
            f"<table id='cb-months'><tr><th>month (UTC)</th><th class=num>return</th></tr>{months}</table>")


def decisions_table(decisions: tuple[Decision, ...]) -> str:
    """A running bot's orders and events in time order: when it decided, what it sent, what happened."""
    if not decisions:
        return ""
    rows = "".join(
        f"<tr class='cb-{html.escape(d.kind)}'><td>{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(d.time))}</td>"
        f"<td>{html.escape(d.kind)}</td><td>{html.escape(d.side)}</td><td class=num>{'' if d.userref is None else d.userref}</td>"
        f"<td>{html.escape(d.sent)}</td><td>{html.escape(d.outcome)}</td></tr>"
        for d in decisions
    )
    return ("<table id='cb-decisions'><tr><th>time (UTC)</th><th>what</th><th>side</th><th class=num>userref</th>"
            f"<th>sent</th><th>outcome</th></tr>{rows}</table>")
