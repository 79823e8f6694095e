"""``candlebot optimize``: search a strategy's parameters with optuna on candles loaded once.

    candlebot optimize --data FILE --strategy NAME --space "fast=5..30 slow=20..120:5" [backtest flags]
                       [--method grid|tpe|random] [--trials N] [--objective total_pnl|...] [--seed S] [--jobs N]
                       [--walk-forward N [--anchored] [--in-sample-blocks K]]
                       [--storage journal:FILE|postgresql://...] [--study NAME]
                       [--json] [--csv PATH] [--html PATH] [--top N] [--best-params]
    candlebot optimize --worker --study NAME --storage URL [--jobs N] [--data FILE]

Every backtest flag (-c, -p, -s, -e, --fee, --cash, --stake, --slippage-bps, --param ...) means
what it means for ``candlebot --data``: each trial is that backtest.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, TextIO

from candlebot.cli.args import BACKTEST, ArgumentParser, build_parser
from candlebot.assembly import BacktestSettings, load_candles
from candlebot.cli.backtest import before_first_candle, named_pair, settings_from_args
from candlebot.errors import ConfigError
from candlebot.optimize.performance import DEFAULT_OBJECTIVE, with_objective

if TYPE_CHECKING:  # the optimizer's modules import optuna: loaded only once it is known to be installed
    from candlebot.chart import Chart
    from candlebot.optimize.optimizer import Optimizer, SearchPlan, SearchResult, WalkForwardResult
    from candlebot.optimize.pool import Executor
    from candlebot.optimize.runner import Window
    from candlebot.optimize.space import SearchSpace
    from candlebot.optimize.costs import TrialCosts

# flags that change how a search runs or is shown, not which search it is (kept out of the study's stored command)
_LOCAL_WITH_VALUE = ("--storage", "--study", "--jobs", "--csv", "--html", "-o", "--output", "--top")
_LOCAL_SWITCHES = ("--json", "--quiet", "--best-params", "--worker")
DEFAULT_TRIALS = 100
MIN_FOLD_CANDLES = 30  # candles in each out-of-sample fold of a walk-forward, at least


def build_optimize_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="candlebot optimize", parents=[build_parser((BACKTEST,), prog="candlebot optimize", outputs=False)], add_help=False,
                            allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
                            epilog="Every backtest flag means what it means for candlebot backtest: each trial is that backtest.",
                            description="Search a strategy's parameters on historical candles (every trial is a plain backtest).")
    search = parser.add_argument_group("search")
    search.add_argument("--space", required=True, help='searched parameters, e.g. "fast=5..30 slow=20..120:5 stop_loss_pct=0,1,2"')
    search.add_argument("--method", default="grid", help="grid (default), tpe or random")
    search.add_argument("--trials", type=int, help=f"trials to run (grid: default the whole grid; tpe/random: default {DEFAULT_TRIALS})")
    search.add_argument("--objective", default=DEFAULT_OBJECTIVE,
                        help="what to maximise: total_pnl (default: end equity - start cash, an open trade marked at the "
                             "window's last close without an exit fee), net_pnl (closed trades' gross - every fee paid), "
                             "return_pct, sharpe, sortino, calmar")
    search.add_argument("--seed", type=int, default=1, help="sampler seed (default 1): same seed, same study")
    search.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes on this machine (default: all cores)")
    honest = parser.add_argument_group("walk-forward")
    honest.add_argument("--walk-forward", type=int, metavar="N", help="optimise on N rolling in-sample windows, each judged on the window after it")
    honest.add_argument("--anchored", action="store_true", help="in-sample windows all start at the first candle")
    honest.add_argument("--in-sample-blocks", type=int, default=3, metavar="K", help="in-sample window length in out-of-sample windows (default 3)")
    shared = parser.add_argument_group("shared studies")
    shared.add_argument("--storage", help="journal:FILE (resume on one machine) or postgresql://user@host/db (workers anywhere)")
    shared.add_argument("--study", help="study name (default: derived from the command, so running it again resumes)")
    shared.add_argument("--worker", action="store_true", help="join the study --study in --storage and run its trials "
                        "until its budget is used up: candlebot optimize --worker --study NAME --storage URL [--jobs N] "
                        "[--data FILE, when the candle file's path differs here] [--quiet]")
    results = parser.add_argument_group("results")
    results.add_argument("--json", action="store_true", help="print the results as one JSON object")
    results.add_argument("--quiet", action="store_true", help="no progress bar")
    results.add_argument("--csv", metavar="PATH", help="write every trial, ranked, to PATH")
    results.add_argument("-o", "--output", "--html", dest="html", metavar="PATH",
                         help="write a self-contained HTML page (heatmap or parallel coordinates, folds); --html is the older spelling")
    results.add_argument("--top", type=int, default=20, help="rows in the ranked table (default 20)")
    results.add_argument("--best-params", action="store_true", help="print only the --param flags of the best result")
    return parser


def build_worker_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="candlebot optimize --worker", allow_abbrev=False,
                            description="Work on a shared study until its budget is used up.")
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--study", required=True, help="the study to join")
    parser.add_argument("--storage", required=True, help="where it lives (postgresql://... or journal:FILE)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes here (default: all cores)")
    parser.add_argument("--data", help="the candle file on this machine, when its path differs from the study's")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if "--worker" in argv:
        _require_optuna()
        return _worker(build_worker_parser().parse_args(argv), err)
    args = build_optimize_parser().parse_args(argv)  # --help works without optuna
    _require_optuna()
    return _optimize(args, defining_argv(argv), out, err)


def defining_argv(argv: list[str]) -> list[str]:
    """The command line minus the flags that only say how to run or show it, with its objective named: what a study
    stores (a stored command without ``--objective`` ranked by the default of its day, which has changed)."""
    return with_objective(_defining(argv), DEFAULT_OBJECTIVE)


def _defining(argv: list[str]) -> list[str]:
    kept: list[str] = []
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        flag = token.partition("=")[0]
        if flag in _LOCAL_SWITCHES or (flag in _LOCAL_WITH_VALUE and "=" in token):
            continue
        if flag in _LOCAL_WITH_VALUE:
            skip = True
            continue
        kept.append(token)
    return _absolute_data(kept)


def _absolute_data(argv: list[str]) -> list[str]:
    """``--data`` as an absolute path, so a worker started in another folder finds the same file."""
    fixed = list(argv)
    for i, token in enumerate(fixed):
        if token == "--data" and i + 1 < len(fixed) and fixed[i + 1] != "demo":
            fixed[i + 1] = os.path.abspath(fixed[i + 1])
        elif token.startswith("--data=") and token != "--data=demo":
            fixed[i] = "--data=" + os.path.abspath(token.removeprefix("--data="))
    return fixed


def _worker(args: argparse.Namespace, err: TextIO) -> int:
    from candlebot.optimize.storage import open_storage
    from candlebot.optimize.study import load_argv

    storage = open_storage(args.storage)
    stored = load_argv(storage, args.study)  # naming its objective (a study made without one: the default of its day)
    argv = _with_data(stored, args.data) if args.data else stored
    run_args = build_optimize_parser().parse_args([*argv, "--jobs", str(args.jobs)] + (["--quiet"] if args.quiet else []))
    job = _Job.build(run_args, err)
    optimizer = job.optimizer(storage, stored, seed_salt=os.getpid())
    try:
        results = optimizer.work(args.study)
    finally:
        job.close()
    told = sum(len(r.tally.ranked) + r.tally.skipped for r in results)
    err.write(f"worker: study {args.study}: {'interrupted' if optimizer.interrupted else 'done'}, {told} trials told in all\n")
    return 130 if optimizer.interrupted else 0


def _optimize(args: argparse.Namespace, argv: list[str], out: TextIO, err: TextIO) -> int:
    from candlebot.optimize.storage import open_storage, shown
    from candlebot.optimize.study import default_name, open_study, sampler_for

    storage = open_storage(args.storage)  # before any work: an unreachable database is a one-line error
    name = args.study or default_name(argv)
    job = _Job.build(args, err)
    try:
        open_study(storage, name, argv, sampler_for(job.plan.method, job.plan.seed, job.plan.space))  # what workers join
        if args.storage:
            err.write(f"study {name} in {shown(args.storage)}; more workers: candlebot optimize --worker --study {name} --storage URL\n")
            err.flush()
        optimizer = job.optimizer(storage, argv)
        if args.walk_forward is None:
            result = optimizer.search(name, _window(job))
            job.progress.close()
            _show_search(args, job, result, out)
        else:
            walk = optimizer.walk_forward(name, float(job.setup.cash))
            job.progress.close()
            if walk is not None:
                _show_walk_forward(args, job, walk, out)
    finally:
        job.close()
    if optimizer.interrupted:
        err.write("candlebot optimize: interrupted; the finished trials are kept" + (f" in study {name}\n" if args.storage else "\n"))
        return 130
    return 0


@dataclass(frozen=True)
class _Job:
    """The parsed, validated search with its candles loaded and its workers forked."""

    args: argparse.Namespace
    setup: BacktestSettings
    plan: SearchPlan
    chart: Chart
    executor: Executor
    progress: _ProgressBars

    @classmethod
    def build(cls, args: argparse.Namespace, err: TextIO) -> _Job:
        from candlebot.optimize.performance import OBJECTIVES
        from candlebot.optimize.pool import make_executor
        from candlebot.optimize.runner import TrialRunner
        from candlebot.optimize.space import parse_space
        from candlebot.optimize.study import METHODS
        from candlebot.optimize.optimizer import SearchPlan

        if args.objective not in OBJECTIVES:
            raise ConfigError(f"unknown objective {args.objective!r} (choose from: {', '.join(OBJECTIVES)})")
        if args.method not in METHODS:
            raise ConfigError(f"unknown --method {args.method!r} (choose from: {', '.join(METHODS)})")
        for flag, value in (("--trials", args.trials), ("--jobs", args.jobs), ("--top", args.top), ("--walk-forward", args.walk_forward)):
            if value is not None and value < 1:
                raise ConfigError(f"{flag} must be >= 1, got {value}")
        if args.data is None:
            raise ConfigError("candlebot optimize needs --data FILE, the candles every trial backtests on ('demo' for a "
                              "generated series)")
        if args.anchored and args.walk_forward is None:
            raise ConfigError("--anchored shapes walk-forward folds: add --walk-forward N, or leave --anchored out")
        setup = settings_from_args(args)
        fixed_names = {item.partition("=")[0].strip().replace("-", "_") for item in args.param}
        space = parse_space(args.space, setup.params, fixed_names, setup.strategy.name)
        budget = _budget(args, space)
        loaded = load_candles(setup)
        chart = loaded.chart
        for warning in (named_pair(setup.data, setup.pair),  # a file named like another pair's candles
                        before_first_candle(setup.start, chart, setup.data),  # the search starts at its first candle
                        loaded.past_end(setup.end, setup.data)):  # --to after the file's last candle: it ends there
            if warning:
                err.write(warning + "\n")
        first = 0 if setup.start is None else bisect.bisect_left(chart.times, setup.start)
        if first >= len(chart):
            raise ConfigError("no candles between --from and --to in the data")
        plan = SearchPlan(space=space, objective=args.objective, method=args.method, seed=args.seed, budget=budget,
                          first=first, stop=len(chart), folds=args.walk_forward, in_sample_blocks=args.in_sample_blocks,
                          anchored=args.anchored)
        check_fold_length(plan.fold_plan(), args)  # too many folds for the data is an error before any worker starts
        executor = make_executor(TrialRunner(setup, chart, space), args.jobs)
        return cls(args, setup, plan, chart, executor, _ProgressBars(err, enabled=not (args.quiet or args.json or args.best_params)))

    def optimizer(self, storage: Any, argv: list[str], seed_salt: int = 0) -> Optimizer:
        from candlebot.optimize.optimizer import Optimizer

        return Optimizer(plan=self.plan, executor=self.executor, jobs=self.args.jobs, storage=storage, argv=argv,
                         progress=self.progress.start, seed_salt=seed_salt)

    @property
    def costs(self) -> TrialCosts:
        """The fee, spread and slippage every trial paid, for the results' header."""
        from candlebot.optimize.costs import TrialCosts

        typed = self.args.fee is not None
        return TrialCosts(self.setup.fee_rate, self.setup.spread, self.setup.slippage_bps,
                          "" if typed else f"{self.setup.pair.altname}'s taker fee")

    @property
    def user_fixed(self) -> dict[str, Any]:
        names = [item.partition("=")[0].strip().replace("-", "_") for item in self.args.param]
        return {name: getattr(self.setup.params, name) for name in names}

    def close(self) -> None:
        self.progress.close()
        self.executor.close()


def check_fold_length(folds: tuple[Any, ...], args: argparse.Namespace) -> None:
    """Each out-of-sample fold must hold ``MIN_FOLD_CANDLES``: a result judged on a handful of candles is noise
    (1,000 folds on 2,160 candles judged each winner on 2 of them, for 28 s, and exited 0)."""
    if not folds:
        return
    shortest = min(fold.out_of_sample.stop - fold.out_of_sample.start for fold in folds)
    if shortest >= MIN_FOLD_CANDLES:
        return
    candles = folds[-1].out_of_sample.stop - folds[0].in_sample.start
    most = candles // MIN_FOLD_CANDLES - args.in_sample_blocks
    advice = f"use --walk-forward {most} or fewer" if most >= 1 else "use more data or a smaller --in-sample-blocks"
    raise ConfigError(f"--walk-forward {args.walk_forward}: out-of-sample folds of {shortest} candles are too short to "
                      f"judge a result (at least {MIN_FOLD_CANDLES}); {advice}")


def _budget(args: argparse.Namespace, space: SearchSpace) -> int:
    if args.method != "grid":
        return args.trials or DEFAULT_TRIALS
    valid = [combo for combo in space.combinations() if space.invalid_reason(combo) is None]
    if not valid:
        first = next(space.combinations())
        raise ConfigError(f"--space holds no valid combination for {args.strategy} (e.g. {space.invalid_reason(first)})")
    return min(args.trials or space.grid_size(), space.grid_size())


def _window(job: _Job) -> Window:
    from candlebot.optimize.runner import Window

    return Window(job.plan.first, job.plan.stop)


def _show_search(args: argparse.Namespace, job: _Job, result: SearchResult, out: TextIO) -> None:
    from candlebot.optimize.results import param_flags, search_json, search_summary

    names = job.plan.space.names
    if args.csv:
        _write(args.csv, "--csv", lambda handle: _csv(handle, [result], job))
    if args.html:
        from candlebot.optimize.html import search_page

        _write(args.html, "--html", lambda handle: handle.write(search_page(result, job.plan.space, job.plan.objective, job.costs)))
    if args.best_params:
        if result.best is None:
            raise ConfigError("no trial finished, so there are no best parameters")
        out.write(param_flags(result.best.values, job.user_fixed) + "\n")
    elif args.json:
        out.write(json.dumps(search_json(result, args.top, job.costs, job.plan.objective)) + "\n")
    else:
        out.write(search_summary(result, names, job.plan.objective, args.top, job.user_fixed, job.costs) + "\n")


def _show_walk_forward(args: argparse.Namespace, job: _Job, walk: WalkForwardResult, out: TextIO) -> None:
    from candlebot.optimize.results import param_flags, walk_forward_json, walk_forward_summary

    if args.csv:
        _write(args.csv, "--csv", lambda handle: _csv(handle, list(walk.searches), job))
    if args.html:
        from candlebot.optimize.html import walk_forward_page

        _write(args.html, "--html", lambda handle: handle.write(walk_forward_page(walk, job.plan.space, job.plan.objective, job.chart.times,
                                                                                  job.costs)))
    if args.best_params:
        out.write(param_flags(walk.folds[-1].values, job.user_fixed) + "\n")
    elif args.json:
        out.write(json.dumps(walk_forward_json(walk, job.costs, job.plan.objective)) + "\n")
    else:
        out.write(walk_forward_summary(walk, job.plan.space.names, job.plan.objective, job.user_fixed, job.chart.times,
                                       job.costs) + "\n")


def _csv(handle: TextIO, searches: list[SearchResult], job: _Job) -> None:
    from candlebot.optimize.results import write_csv

    write_csv([(s.study, s.tally.ranked) for s in searches], job.plan.space.names, job.plan.objective, handle)


def _write(path: str, flag: str, write: Callable[[TextIO], Any]) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            write(handle)
    except OSError as exc:
        raise ConfigError(f"{flag}: cannot write {path}: {exc.strerror or exc}") from None


def _with_data(argv: list[str], data: str) -> list[str]:
    replaced, skip = [], False
    for token in argv:
        if skip:
            skip = False
            continue
        if token == "--data":
            skip = True
            continue
        if not token.startswith("--data="):
            replaced.append(token)
    return [*replaced, "--data", data]


def _require_optuna() -> None:
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise ConfigError("candlebot optimize needs optuna: pip install 'candlebot[optimize]'") from None


class _ProgressBars:
    """One tqdm bar per study: trials done, best so far, ETA. tqdm is imported only when a bar is shown."""

    def __init__(self, err: TextIO, *, enabled: bool) -> None:
        self.err = err
        self.enabled = enabled and err.isatty()
        self.bars: list[Any] = []

    def start(self, name: str, study: Any, budget: int) -> Callable[[Any], None]:
        if not self.enabled:
            return lambda study: None
        from tqdm import tqdm

        from candlebot.optimize.study import counted_trials

        bar = tqdm(total=budget, initial=min(counted_trials(study), budget), desc=name, unit="trial", file=self.err, dynamic_ncols=True)
        self.bars.append(bar)

        def told(study: Any) -> None:
            bar.update(1)
            try:
                bar.set_postfix_str(f"best {study.best_value:.4g}" if math.isfinite(study.best_value) else "best n/a", refresh=False)
            except ValueError:  # nothing complete yet
                pass

        return told

    def close(self) -> None:
        for bar in self.bars:
            bar.close()
        self.bars.clear()
