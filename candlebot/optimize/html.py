"""One self-contained HTML page of an optimisation: inline SVG and CSS, no script, no CDN, works offline.

Two searched parameters give a heatmap (each cell: the best objective with those two values;
grey: not run, invalid or objective undefined); otherwise parallel coordinates (one line per trial, the best one
thick). A walk-forward page adds the stitched out-of-sample equity, shaded by fold, the fold
table and each fold's parameter chart.
"""

from __future__ import annotations

from html import escape
from typing import Any, Sequence

import numpy as np

from candlebot.output.lines import plural, utc
from candlebot.optimize.costs import TrialCosts
from candlebot.optimize.optimizer import SearchResult, WalkForwardResult
from candlebot.optimize.results import (METRIC_COLUMNS, PNL_LEGEND, WALK_FORWARD_LEGEND, metric_text, number_text, open_at_fold_ends, value_text,
                                        walk_forward_warnings)
from candlebot.optimize.space import SearchSpace
from candlebot.optimize.study import TrialRecord
from candlebot.optimize.deflated import noise_warning

_STYLE = """body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}.warn{color:#b00020;font-weight:600}
svg text{font:11px system-ui,sans-serif}h2{margin-top:28px}"""
_MAX_POINTS = 2000


def search_page(result: SearchResult, space: SearchSpace, objective: str, costs: TrialCosts | None = None) -> str:
    ranked = result.tally.ranked
    warning = noise_warning(result.deflated_sharpe, len(ranked), "the best in-sample result")
    body = [
        f"<h1>candlebot optimize: {escape(result.study)}</h1>",
        f"<p>{plural(len(ranked), 'trial')} run, {plural(result.tally.skipped, 'invalid combination')} skipped; objective {escape(objective)}; "
        f"fees included. Deflated Sharpe of the best: {_pct(result.deflated_sharpe)}.</p>",
        f'<p class="costs">{escape(costs.text())}</p>' if costs is not None else "",
        f'<p class="legend">{escape(PNL_LEGEND)}</p>',
        f'<p class="warn">{escape(warning)}</p>' if warning else "",
        parameter_chart(ranked, space, objective),
        "<h2>Ranked trials</h2>",
        _trials_table(ranked[:50], space.names, objective),
    ]
    return _page(result.study, body)


def walk_forward_page(walk: WalkForwardResult, space: SearchSpace, objective: str, times: Sequence[int],
                      costs: TrialCosts | None = None) -> str:
    oos = walk.out_of_sample
    rows = [
        [str(f.fold.number), f"{utc(times[f.fold.in_sample.start])[:16]} .. {utc(times[f.fold.in_sample.stop - 1])[:16]}",
         f"{utc(times[f.fold.out_of_sample.start])[:16]} .. {utc(times[f.fold.out_of_sample.stop - 1])[:16]}",
         " ".join(f"{k}={value_text(v)}" for k, v in f.values.items()), number_text(f.in_sample.objective(objective), ".2f"),
         number_text(f.out_of_sample.objective(objective), ".2f"), f"{f.out_of_sample.gross_pnl:.2f}", f"{f.out_of_sample.fees:.2f}",
         f"{f.out_of_sample.net_pnl:.2f}", number_text(f.out_of_sample.total_pnl, ".2f"), str(f.trials), _pct(f.deflated_sharpe)]
        for f in walk.folds
    ]
    body = [
        "<h1>candlebot optimize: walk-forward</h1>",
        f"<p>{len(walk.folds)} folds, {walk.trials} trials in all; fees included. Stitched out of sample: closed trades gross "
        f"{oos.gross_pnl:.2f}, fees {oos.fees:.2f}, net {oos.net_pnl:.2f}, open at fold ends {open_at_fold_ends(oos):+.2f}, "
        f"total {number_text(oos.total_pnl, '.2f')}, "
        f"return {oos.return_pct:+.2f}%, "
        f"max drawdown {oos.max_drawdown_pct:.2f}%, Sharpe {number_text(oos.sharpe, '.2f')} (probabilistic {_pct(walk.probabilistic_sharpe)}); "
        f"walk-forward efficiency {'n/a' if walk.efficiency is None else f'{walk.efficiency:.2f}'}.</p>",
        f'<p class="costs">{escape(costs.text())}</p>' if costs is not None else "",
        f'<p class="legend">{escape(WALK_FORWARD_LEGEND)}</p>',
        f'<p class="legend">{escape(PNL_LEGEND)}</p>',
        *(f'<p class="warn">{escape(w)}</p>' for w in walk_forward_warnings(walk)),
        "<h2>Stitched out-of-sample equity</h2>",
        _equity_svg(walk),
        "<h2>Folds</h2>",
        _table(["fold", "in-sample", "out-of-sample", "winner", f"IS {objective}", f"OOS {objective}", "OOS gross",
                "OOS fees", "OOS net", "OOS total", "trials", "IS DSR"], rows),
        "<p>Parameter stability: " + escape("; ".join(
            f"{s.name} {'/'.join(value_text(v) for v in s.chosen)} ({'spread' if s.numeric else 'agreement'} {s.score:.2f}, "
            f"{'stable' if s.stable else 'unstable'})" for s in walk.stability)) + "</p>",
    ]
    for search in walk.searches:
        body += [f"<h2>{escape(search.study)}</h2>", parameter_chart(search.tally.ranked, space, objective)]
    return _page("walk-forward", body)


def parameter_chart(records: Sequence[TrialRecord], space: SearchSpace, objective: str) -> str:
    """Trials whose objective is undefined (n/a in the tables) are left out, as if not run."""
    records = [r for r in records if r.objective is not None]
    if not records:
        return f"<p>No finished trial has a defined {escape(objective)}.</p>"
    if len(space.dimensions) == 2:
        return _heatmap(records, space, objective)
    return _parallel(records, space, objective)


def _heatmap(records: Sequence[TrialRecord], space: SearchSpace, objective: str) -> str:
    x_dim, y_dim = space.dimensions
    best: dict[tuple[Any, Any], float] = {}
    for r in records:
        key = (r.values[x_dim.name], r.values[y_dim.name])
        best[key] = max(best.get(key, r.objective), r.objective)
    low, high = min(best.values()), max(best.values())
    cell, left, top = 34, 70, 20
    width, height = left + cell * len(x_dim.values) + 20, top + cell * len(y_dim.values) + 30
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="heatmap of {escape(objective)}">']
    for i, x in enumerate(x_dim.values):
        parts.append(f'<text x="{left + i * cell + cell / 2}" y="{height - 12}" text-anchor="middle">{escape(value_text(x))}</text>')
        for j, y in enumerate(y_dim.values):
            value = best.get((x, y))
            fill = "#ddd" if value is None else _colour(value, low, high)
            tip = "not run (invalid)" if value is None else f"{x_dim.name}={value_text(x)} {y_dim.name}={value_text(y)}: {value:.4g}"
            parts.append(f'<rect x="{left + i * cell}" y="{top + j * cell}" width="{cell - 1}" height="{cell - 1}" '
                         f'fill="{fill}"><title>{escape(tip)}</title></rect>')
    for j, y in enumerate(y_dim.values):
        parts.append(f'<text x="{left - 6}" y="{top + j * cell + cell / 2 + 4}" text-anchor="end">{escape(value_text(y))}</text>')
    parts.append("</svg>")
    return "".join(parts) + (f"<p>{escape(x_dim.name)} across, {escape(y_dim.name)} down; colour: best {escape(objective)} "
                             f"from {low:.4g} (red) to {high:.4g} (green); grey: not run (invalid).</p>")


def _parallel(records: Sequence[TrialRecord], space: SearchSpace, objective: str) -> str:
    axes = [d.name for d in space.dimensions] + [objective]
    gap, top, height = 140, 24, 260
    width = 60 + gap * (len(axes) - 1) + 60
    columns = [[_axis_value(r.values[d.name], d.values) for r in records] for d in space.dimensions]
    columns.append([r.objective for r in records])
    scaled = [_unit(np.array(c, dtype=float)) for c in columns]
    objectives = [r.objective for r in records]
    low, high = min(objectives), max(objectives)
    parts = [f'<svg width="{width}" height="{height + 60}" role="img" aria-label="parallel coordinates">']
    order = sorted(range(len(records)), key=lambda k: records[k].objective)  # best drawn last, on top
    for k in order:
        points = " ".join(f"{60 + a * gap},{top + (1 - scaled[a][k]) * height:.1f}" for a in range(len(axes)))
        thick = 3 if k == 0 else 1
        parts.append(f'<polyline points="{points}" fill="none" stroke="{_colour(records[k].objective, low, high)}" '
                     f'stroke-width="{thick}" opacity="0.7"><title>trial {records[k].number}: {records[k].objective:.4g}</title></polyline>')
    for a, name in enumerate(axes):
        x = 60 + a * gap
        values = columns[a]
        parts.append(f'<line x1="{x}" y1="{top}" x2="{x}" y2="{top + height}" stroke="#333"/>')
        parts.append(f'<text x="{x}" y="{top + height + 20}" text-anchor="middle">{escape(name)}</text>')
        top_label, bottom_label = (_axis_label(space, a, max(values)), _axis_label(space, a, min(values)))
        parts.append(f'<text x="{x + 4}" y="{top - 6}">{escape(top_label)}</text><text x="{x + 4}" y="{top + height + 36}">{escape(bottom_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _equity_svg(walk: WalkForwardResult) -> str:
    width, height, pad = 900, 260, 40
    stamps = walk.curve.close_times
    step = max(1, len(walk.curve.equity) // _MAX_POINTS)
    shown = np.unique(np.r_[np.arange(0, len(walk.curve.equity), step), len(walk.curve.equity) - 1])  # thinned, last point kept
    times, equity = stamps[shown].astype(float), walk.curve.equity[shown]
    x = _unit(times) * (width - 2 * pad) + pad
    y = (1 - _unit(equity)) * (height - 2 * pad) + pad
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="stitched out-of-sample equity">']
    first, span = float(stamps[0]), float(stamps[-1] - stamps[0]) or 1.0
    edges = np.cumsum([0] + [f.fold.out_of_sample.stop - f.fold.out_of_sample.start for f in walk.folds])
    for n, fold in enumerate(walk.folds):
        x0 = pad + (float(stamps[edges[n]]) - first) / span * (width - 2 * pad)
        x1 = pad + (float(stamps[edges[n + 1] - 1]) - first) / span * (width - 2 * pad)
        parts.append(f'<rect x="{x0:.1f}" y="{pad}" width="{max(x1 - x0, 1):.1f}" height="{height - 2 * pad}" '
                     f'fill="{"#f4f7ff" if n % 2 else "#eef5ee"}"><title>fold {fold.fold.number}</title></rect>')
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#1565c0" stroke-width="1.5"/>')
    parts.append(f'<text x="{pad}" y="{pad - 8}">{equity.max():.2f}</text><text x="{pad}" y="{height - pad + 16}">{equity.min():.2f}</text>')
    parts.append(f'<text x="{width - pad}" y="{height - 8}" text-anchor="end">{utc(int(stamps[0]))[:10]} .. {utc(int(stamps[-1]))[:10]}</text></svg>')
    return "".join(parts)


def _axis_value(value: Any, values: tuple[Any, ...]) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return float(values.index(value))


def _axis_label(space: SearchSpace, axis: int, value: float) -> str:
    if axis < len(space.dimensions):
        dimension = space.dimensions[axis]
        if dimension.span is None:
            return value_text(dimension.values[int(value)])
    return f"{value:.4g}"


def _unit(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.full(len(values), 0.5)


def _colour(value: float, low: float, high: float) -> str:
    share = (value - low) / (high - low) if high > low else 1.0
    red, green = int(215 * (1 - share) + 30 * share), int(48 * (1 - share) + 160 * share)
    return f"rgb({red},{green},60)"


def _trials_table(records: Sequence[TrialRecord], names: tuple[str, ...], objective: str) -> str:
    rows = [[str(r.number), *(value_text(r.values[n]) for n in names),
             *(metric_text(r.performance, c) for c in METRIC_COLUMNS)]
            for r in records]
    return _table(["trial", *names, *(c + (" (ranked by)" if c == objective else "") for c in METRIC_COLUMNS)], rows)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _page(title: str, body: list[str]) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>{''.join(body)}</body></html>\n")
