"""Results people can use: the ranked table (terminal, JSON, CSV), walk-forward folds, ``--param`` flags to paste.

Every result states how many trials ran and the deflated Sharpe ratio of the best one, with a
plain warning when the edge is likely noise; gross P/L stands next to fees and net P/L, and the total P/L (the end
equity's) next to them, with the ``PNL_LEGEND`` saying which is which.
"""

from __future__ import annotations

import csv
import json
from typing import Any, Sequence, TextIO

from candlebot.output.lines import plural, utc
from candlebot.optimize.costs import TrialCosts
from candlebot.optimize.deflated import noise_warning
from candlebot.optimize.optimizer import SearchResult, WalkForwardResult
from candlebot.optimize.performance import Performance
from candlebot.optimize.runner import Window
from candlebot.optimize.study import TrialRecord

METRIC_COLUMNS = ("total_pnl", "net_pnl", "gross_pnl", "fees", "trades", "return_pct", "max_drawdown_pct", "sharpe", "sortino", "calmar")
PNL_LEGEND = ("total = end equity - start cash = net + a trade open at the window's end marked at its last close "
              "(no exit fee); net = closed trades' gross - every fee paid (an open trade's entry fee included)")
MIN_CAGR_DAYS = 90
"""A window shorter than this shows no CAGR: a 13-day gain compounded to a year read +166361%, a figure that means
nothing and drowned the table's real numbers."""
WALK_FORWARD_LEGEND = (f"IS = in-sample (where the fold's parameters were searched), OOS = out-of-sample (the window after, "
                       f"never searched); CAGR% = annualised return, n/a for a window under {MIN_CAGR_DAYS} days; "
                       "IS DSR = deflated Sharpe ratio of the fold's in-sample winner: the probability that its true "
                       "Sharpe beats the best that as many worthless trials would show by luck (under 95%: likely noise)")
_HEADINGS = {"total_pnl": "total", "net_pnl": "net", "gross_pnl": "gross", "fees": "fees", "trades": "trades", "return_pct": "return%",
             "max_drawdown_pct": "maxDD%", "sharpe": "sharpe", "sortino": "sortino", "calmar": "calmar"}


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def param_flags(values: dict[str, Any], fixed: dict[str, Any]) -> str:
    """``--param k=v`` for every searched value and every ``--param`` the search kept fixed."""
    return " ".join(f"--param {name}={value_text(value)}" for name, value in {**fixed, **values}.items())


def fleet_params(values: dict[str, Any], fixed: dict[str, Any]) -> str:
    """The same parameters as a fleet file's ``params`` inline table (deploy/supervisor/fleet.example.toml)."""
    return "params = { " + ", ".join(f"{name} = {_toml(value)}" for name, value in {**fixed, **values}.items()) + " }"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def ranked_table(records: tuple[TrialRecord, ...], names: tuple[str, ...], objective: str, top: int) -> str:
    """One row per trial, best first; the column ranked by is marked with ``*``."""
    header = ["rank", "trial", *names, *(_HEADINGS[c] + ("*" if c == objective else "") for c in METRIC_COLUMNS)]
    rows = [
        [str(rank), str(record.number), *(value_text(record.values[n]) for n in names),
         *(metric_text(record.performance, c) for c in METRIC_COLUMNS)]
        for rank, record in enumerate(records[:top], start=1)
    ]
    return _table(header, rows)


def table_legend(objective: str) -> str:
    """One line under the ranked table saying what its starred column and its short headings mean."""
    return f"{_HEADINGS[objective]}*: ranked by this column (--objective {objective}); maxDD% = max drawdown; in quote:"


def search_summary(result: SearchResult, names: tuple[str, ...], objective: str, top: int, fixed: dict[str, Any],
                   costs: TrialCosts | None = None) -> str:
    tally = result.tally
    lines = [f"study {result.study}: {plural(len(tally.ranked), 'trial')} run, {plural(tally.skipped, 'invalid combination')} skipped"
             + (f", {tally.failed} interrupted" if tally.failed else "") + (f", {tally.running} still running elsewhere (or lost with a killed worker)" if tally.running else "")
             + "; fees included (gross P/L shown next to net)"]
    if costs is not None:
        lines.append(costs.text())
    if tally.ranked:
        lines.append(ranked_table(tally.ranked, names, objective, top))
        lines.append(table_legend(objective))
        lines.append(PNL_LEGEND)
        best = tally.ranked[0]
        lines.append(f"best: {param_flags(best.values, fixed)}")
        lines.append(f"  in a fleet file: {fleet_params(best.values, fixed)}")
        lines.append(f"deflated Sharpe of the best: {_probability(result.deflated_sharpe)} after {len(tally.ranked)} trials")
        warning = noise_warning(result.deflated_sharpe, len(tally.ranked), "the best in-sample result")
        lines.append(warning or "the best Sharpe ratio survives the number of trials (deflated Sharpe >= 95%)")
        lines.append("in-sample only: check it out of sample with --walk-forward N")
    return "\n".join(lines)


def open_at_fold_ends(oos: Performance) -> float:
    """What the stitched total holds beyond closed trades' gross less fees: trades open at a fold's end, marked at its
    last close; shown so that the figures add up."""
    return (oos.total_pnl or 0.0) - (oos.gross_pnl - oos.fees)


def walk_forward_summary(
    result: WalkForwardResult, names: tuple[str, ...], objective: str, fixed: dict[str, Any], times: Sequence[int],
    costs: TrialCosts | None = None,
) -> str:
    extra = [] if objective == "total_pnl" else ["OOS total"]  # the ranked objective's column shows it already
    header = ["fold", "in-sample", "out-of-sample", *names, f"IS {objective}", f"OOS {objective}", "IS CAGR%", "OOS CAGR%",
              "OOS gross", "OOS fees", "OOS net", *extra, "OOS trades", "trials", "IS DSR"]
    rows = []
    for fold in result.folds:
        rows.append([
            str(fold.fold.number), _span(times, fold.fold.in_sample), _span(times, fold.fold.out_of_sample),
            *(value_text(fold.values[n]) for n in names),
            number_text(fold.in_sample.objective(objective), ".2f"), number_text(fold.out_of_sample.objective(objective), ".2f"),
            cagr_text(fold.in_sample.cagr_pct, times, fold.fold.in_sample),
            cagr_text(fold.out_of_sample.cagr_pct, times, fold.fold.out_of_sample),
            f"{fold.out_of_sample.gross_pnl:.2f}", f"{fold.out_of_sample.fees:.2f}", f"{fold.out_of_sample.net_pnl:.2f}",
            *([number_text(fold.out_of_sample.total_pnl, ".2f")] if extra else []), str(fold.out_of_sample.trades), str(fold.trials), _probability(fold.deflated_sharpe),
        ])
    oos = result.out_of_sample
    lines = [
        f"walk-forward: {len(result.folds)} folds, {result.trials} trials run in all; fees included",
        *([costs.text()] if costs is not None else []),
        _table(header, rows),
        WALK_FORWARD_LEGEND,
        PNL_LEGEND,
        f"stitched out-of-sample (folds compounded; a trade open at a fold's end marked at its last close, no exit fee): "
        f"total {number_text(oos.total_pnl, '.2f')} (closed trades gross {oos.gross_pnl:.2f}, fees {oos.fees:.2f}, "
        f"open at fold ends {open_at_fold_ends(oos):+.2f}; net {oos.net_pnl:.2f}); "
        f"return {oos.return_pct:+.2f}% (CAGR {_stitched_cagr(result, times)}), max drawdown {oos.max_drawdown_pct:.2f}%, "
        f"sharpe {number_text(oos.sharpe, '.2f')}, sortino {number_text(oos.sortino, '.2f')}, calmar {number_text(oos.calmar, '.2f')}, "
        f"{oos.trades} trades",
        f"walk-forward efficiency (stitched OOS CAGR / mean IS CAGR): {_ratio(result.efficiency)}",
        "parameter stability across folds: " + "; ".join(
            f"{s.name} {'/'.join(value_text(v) for v in s.chosen)} "
            f"({'spread' if s.numeric else 'agreement'} {s.score:.2f}, {'stable' if s.stable else 'UNSTABLE'})"
            for s in result.stability),
        f"probabilistic Sharpe of the stitched out-of-sample equity: {_probability(result.probabilistic_sharpe)}",
        f"to trade next (last fold's winner): {param_flags(result.folds[-1].values, fixed)}",
        f"  in a fleet file: {fleet_params(result.folds[-1].values, fixed)}",
    ]
    lines += walk_forward_warnings(result)
    return "\n".join(lines)


def _stitched_cagr(result: WalkForwardResult, times: Sequence[int]) -> str:
    """The stitched out-of-sample CAGR, under the fold table's rule: n/a when the folds' windows span under
    ``MIN_CAGR_DAYS``."""
    span = Window(result.folds[0].fold.out_of_sample.start, result.folds[-1].fold.out_of_sample.stop)
    text = cagr_text(result.out_of_sample.cagr_pct, times, span)
    return text if text.startswith("n/a") else f"{result.out_of_sample.cagr_pct:+.2f}%"


def walk_forward_warnings(result: WalkForwardResult) -> list[str]:
    warnings = []
    noise = noise_warning(result.probabilistic_sharpe, None, "the stitched out-of-sample result")
    if noise:
        warnings.append(noise)
    if result.efficiency is None or result.efficiency < 0.5:
        warnings.append("WARNING: the in-sample edge does not carry over out of sample (walk-forward efficiency below 0.5).")
    if result.out_of_sample.return_pct <= 0:
        warnings.append("WARNING: out of sample the strategy lost money after fees.")
    if not all(s.stable for s in result.stability):
        warnings.append("WARNING: the chosen parameters jump between folds; the optimum is probably noise.")
    return warnings


def search_json(result: SearchResult, top: int, costs: TrialCosts | None = None, objective: str | None = None) -> dict[str, Any]:
    return {
        "study": result.study,
        **({"objective": objective} if objective is not None else {}),
        "pnl_legend": PNL_LEGEND,
        **({"costs": costs.to_json()} if costs is not None else {}),
        "trials": len(result.tally.ranked),
        "skipped_invalid": result.tally.skipped,
        "interrupted": result.tally.failed,
        "still_running": result.tally.running,
        "deflated_sharpe": result.deflated_sharpe,
        "noise_warning": noise_warning(result.deflated_sharpe, len(result.tally.ranked), "the best in-sample result"),
        "ranked": [_record_json(r) for r in result.tally.ranked[:top]],
    }


def walk_forward_json(result: WalkForwardResult, costs: TrialCosts | None = None, objective: str | None = None) -> dict[str, Any]:
    return {
        "trials": result.trials,
        **({"objective": objective} if objective is not None else {}),
        "pnl_legend": PNL_LEGEND,
        **({"costs": costs.to_json()} if costs is not None else {}),
        "folds": [
            {"fold": f.fold.number, "in_sample": [f.fold.in_sample.start, f.fold.in_sample.stop],
             "out_of_sample": [f.fold.out_of_sample.start, f.fold.out_of_sample.stop], "params": f.values,
             "trials": f.trials, "in_sample_deflated_sharpe": f.deflated_sharpe,
             "in_sample_metrics": f.in_sample.to_json(), "out_of_sample_metrics": f.out_of_sample.to_json()}
            for f in result.folds
        ],
        "out_of_sample": result.out_of_sample.to_json(),
        "out_of_sample_probabilistic_sharpe": result.probabilistic_sharpe,
        "walk_forward_efficiency": result.efficiency,
        "stability": {s.name: {"chosen": list(s.chosen), "score": s.score, "stable": s.stable} for s in result.stability},
        "warnings": walk_forward_warnings(result),
    }


def write_csv(studies: list[tuple[str, tuple[TrialRecord, ...]]], names: tuple[str, ...], objective: str, out: TextIO) -> None:
    """Every finished trial of each study (one per walk-forward fold), ranked within its study.

    ``ranked_by`` names the objective; its value is that metric's own column (the objective's name as a second
    header would repeat it: ``net_pnl,net_pnl``)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["study", "rank", "trial", *names, "ranked_by", *METRIC_COLUMNS])
    for study, records in studies:
        for rank, record in enumerate(records, start=1):
            writer.writerow([study, rank, record.number, *(record.values[n] for n in names), objective,
                             *(getattr(record.performance, c) for c in METRIC_COLUMNS)])


def _record_json(record: TrialRecord) -> dict[str, Any]:
    return {"trial": record.number, "params": record.values, "objective": record.objective, **record.performance.to_json()}


def metric_text(performance: Performance, name: str) -> str:
    value = getattr(performance, name)
    return str(value) if isinstance(value, int) else number_text(value, ".2f")


def cagr_text(value: float | None, times: Sequence[int], window: Window) -> str:
    """A window's CAGR%, or ``n/a (13 d)`` when it is shorter than ``MIN_CAGR_DAYS``."""
    days = window_days(times, window)
    return f"n/a ({days:.0f} d)" if days < MIN_CAGR_DAYS else number_text(value, ".2f")


def window_days(times: Sequence[int], window: Window) -> float:
    """The days a window covers: first candle's open to last candle's close (a step after its open)."""
    step = times[window.start + 1] - times[window.start] if window.stop - window.start > 1 else 0
    return (times[window.stop - 1] + step - times[window.start]) / 86_400


def number_text(value: float | None, spec: str) -> str:
    """A metric the backtest leaves undefined shows as n/a (and ranks last)."""
    return "n/a" if value is None else format(value, spec)


def _span(times: Sequence[int], window: Window) -> str:
    """First and last candle of a window (bar opens, UTC)."""
    return f"{utc(times[window.start])[:16]}..{utc(times[window.stop - 1])[:16]}"


def _probability(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _ratio(value: float | None) -> str:
    return "n/a (a CAGR undefined or in-sample CAGR <= 0)" if value is None else f"{value:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)
