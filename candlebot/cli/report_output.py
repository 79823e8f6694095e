"""``-o`` / ``--png``: a finished backtest (or a bot's store) turned into the report's plain data and written out.

Refusals name the flag as typed when the parser kept it (``candlebot.cli.args.KeepSpelling``: ``--report``,
``--report-png``), else as every command shows it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

from candlebot.cli.args import spelled
from candlebot.errors import ConfigError
from candlebot.output.lines import plural, utc
from candlebot.output import progress
from candlebot.output.fills import fill_marks
from candlebot.output.report_data import IndicatorLine, ReportData
from candlebot.output.report import RunReport

if TYPE_CHECKING:
    from candlebot.assembly import Backtest

HTML_FLAG, PNG_FLAG = "-o/--output", "--png"  # the names every report-writing command shows


def check_report_paths(html: str | None, png: str | None) -> None:
    """Before a long run: the folders exist, and the PNG's library is installed."""
    for flag, path in ((HTML_FLAG, html), (PNG_FLAG, png)):
        if path is not None and not Path(path).resolve().parent.is_dir():
            raise ConfigError(f"{spelled(path, flag)}: folder of {path} does not exist")
    if png is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ConfigError(f"{spelled(png, PNG_FLAG)} needs matplotlib: pip install 'candlebot[report]'") from None


def report_data(backtest: Backtest, report: RunReport) -> ReportData:
    """The candles traded on (from ``-s``), the strategy's lines over them, every fill and the metrics."""
    chart, ledger, start = backtest.chart, backtest.ledger, backtest.start_index

    def column(values: object, kind: type) -> np.ndarray:
        return np.frombuffer(values, dtype=kind)[start:]  # type: ignore[call-overload]

    lines = tuple(IndicatorLine(name, column(line, np.float64)) for name, line in backtest.engine.indicators.named_lines().items())
    pair = ledger.pair
    params = " ".join(f"{k}={v}" for k, v in report.params.items())
    return ReportData(
        title=f"{report.strategy} on {report.pair}",
        subtitle=f"{params} | {report.period_s / 60:g} min candles, {utc(report.first_time)} .. {utc(report.last_time)} UTC | "
                 f"{plural(report.candles, 'candle')}, {plural(report.trades, 'trade')}",
        pair=report.pair,
        period_s=chart.period,
        price_decimals=pair.pair_decimals,
        volume_decimals=pair.lot_decimals,
        cost_decimals=pair.cost_decimals,
        times=column(chart.times, np.int64),
        opens=column(chart.opens, np.float64),
        highs=column(chart.highs, np.float64),
        lows=column(chart.lows, np.float64),
        closes=column(chart.closes, np.float64),
        lines=lines,
        fills=tuple(fill_marks(ledger.trades, report.reasons)),
        start_cash=float(ledger.start_cash),
        metrics=report.metrics,
    )


def write_reports(html_path: str | None, png_path: str | None, data: ReportData, err: TextIO) -> None:
    from candlebot.output.html import build_html

    if html_path is not None:
        if progress.wanted(err, len(data.times)):
            stages = ["candles", "indicator lines", "fills", "compress", "page"]
            with progress.progress_bar(err, len(stages), "report", "steps") as advance:
                page = build_html(data, lambda stage: advance(stages.index(stage)))
        else:
            page = build_html(data)
        _write(html_path, spelled(html_path, HTML_FLAG), page)
    if png_path is not None:
        from candlebot.output.png import write_png

        try:
            write_png(data, png_path)
        except OSError as exc:
            raise ConfigError(f"{spelled(png_path, PNG_FLAG)}: cannot write {png_path}: {exc.strerror or exc}") from None


def _write(path: str, flag: str, text: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"{flag}: cannot write {path}: {exc.strerror or exc}") from None
