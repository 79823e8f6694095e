"""``--report-png``: a static picture of the report for Slack and CI (matplotlib, the ``[report]`` extra).

Candles are grouped into about 400 display buckets (as the HTML does when zoomed
out); every fill is still drawn, as a triangle at its price.
"""

from __future__ import annotations

import numpy as np

from candlebot.output.equity import drawdown, equity_curve
from candlebot.output.html import metrics_rows
from candlebot.output.report_data import ReportData

BUCKETS = 400


def write_png(data: ReportData, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    n = len(data.times)
    size = max(1, -(-n // BUCKETS))
    starts = np.arange(0, n, size)
    t = data.times[starts].astype(np.float64)
    o = data.opens[starts]
    c = data.closes[np.minimum(starts + size, n) - 1]  # open of the first candle, close of the last, extremes of all
    h = np.maximum.reduceat(data.highs, starts)
    lo = np.minimum.reduceat(data.lows, starts)
    width = size * data.period_s * 0.7
    curve = equity_curve(data.fills, data.times, data.closes, data.period_s, data.start_cash)
    days = lambda seconds: np.asarray(seconds, dtype=np.float64) / 86_400  # noqa: E731 (matplotlib dates: days since epoch)

    fig, (ax_price, ax_eq, ax_dd) = plt.subplots(3, 1, figsize=(14, 9), sharex=True, height_ratios=(3, 1.4, 1))
    up = c >= o
    for mask, color in ((up, "#1a9850"), (~up, "#d73027")):
        ax_price.vlines(days(t[mask] + width / 2), lo[mask], h[mask], color=color, linewidth=0.6)
        ax_price.bar(days(t[mask]), np.abs(c[mask] - o[mask]), bottom=np.minimum(o[mask], c[mask]), width=days(width),
                     align="edge", color=color, linewidth=0)
    for line in data.lines:
        if line.overlays(data.closes):
            ax_price.plot(days(data.times[starts]), line.values[np.minimum(starts + size, n) - 1], linewidth=0.8, label=line.name)
    for side, marker, color in (("buy", "^", "#0050ff"), ("sell", "v", "#ff00aa")):
        fills = [f for f in data.fills if f.side == side]
        ax_price.scatter(days([f.time for f in fills]), [float(f.price) for f in fills], marker=marker, s=14, color=color,
                         edgecolors="black", linewidths=0.3, zorder=3, label=f"{side} fills ({len(fills)})")
    ax_price.legend(loc="upper left", fontsize=8)
    ax_price.set_title(f"{data.title}\n{data.subtitle}", fontsize=10)
    ends = np.minimum(starts + size, n) - 1  # each bucket shows its last equity and its deepest drawdown
    close_days = days(curve.close_times[ends])
    ax_eq.plot(close_days, curve.equity[ends], linewidth=0.9, label="equity")
    first_open = float(data.opens[0]) if n else 1.0
    ax_eq.plot(close_days, data.start_cash * c / first_open, linewidth=0.8, color="#999", linestyle="--", label="buy & hold")
    ax_eq.legend(loc="upper left", fontsize=8)
    ax_dd.fill_between(close_days, -np.maximum.reduceat(drawdown(curve), starts) * 100, color="#d73027", alpha=0.4, linewidth=0)
    ax_dd.set_ylabel("drawdown %")
    ax_dd.xaxis_date()
    text = "   ".join(f"{k}: {v}" for k, v in metrics_rows(data.metrics)[:12])
    fig.text(0.01, 0.005, text, fontsize=7, wrap=True)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
