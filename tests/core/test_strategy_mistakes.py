"""A newcomer's mistakes in a strategy file are one line (exit 2) when it is loaded or built, never a traceback and
never a strategy that fails on every candle: no name, a Params without @dataclass, a misspelt evaluate_positions,
an unsupported parameter type, a broken validate() or setup()."""

from __future__ import annotations

import importlib
import json
import sys

import pytest

from candlebot.cli import main
from candlebot.errors import ConfigError
from candlebot.strategies import STRATEGIES
from candlebot.strategy.loader import load_strategy
from candlebot.strategy.params import parse_params
from tests.core.test_strategy_loading import source, workdir  # noqa: F401 (workdir: the user's folder, a fixture)

GOOD = source("Trend", "trend")

# (what the newcomer changed in GOOD, what the one line says)
MISTAKES = {
    "no_name": (('    name = "trend"\n', ""), 'Trend has no name: add name = "trend" to the class'),
    "no_dataclass": (("@dataclass(frozen=True)\n", ""),
                     "FastSlowParams.fast is not a parameter: put @dataclass(frozen=True) above class FastSlowParams"),
    "plain_params": (("class FastSlowParams(StrategyParams):", "class FastSlowParams:"),
                     "Trend.Params must be a @dataclass(frozen=True) subclass of StrategyParams"),
    "misspelt": (("def evaluate_positions(self, i: int)", "def evaluate_position(self, i: int)"),
                 "Trend does not define evaluate_positions(self, i) (it defines evaluate_position: a misspelling?)"),
    "no_index": (("def evaluate_positions(self, i: int)", "def evaluate_positions(self)"),
                 "Trend.evaluate_positions must take (self, i), not evaluate_positions(self)"),
    "setup_without_indicators": (("def setup(self, indicators: BotIndicators)", "def setup(self)"),
                                 "Trend.setup must take (self, indicators), not setup(self)"),
}


def mistake(workdir, name: str, old: str, new: str) -> str:
    assert old in GOOD
    (workdir / f"{name}.py").write_text(GOOD.replace(old, new))
    return f"{name}.py"


def test_the_unchanged_file_loads(workdir):
    (workdir / "trend.py").write_text(GOOD)
    assert load_strategy("trend.py", STRATEGIES).name == "trend"


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_class_that_would_fail_later_is_refused_at_load_in_one_line(workdir, name):
    (old, new), message = MISTAKES[name]
    with pytest.raises(ConfigError) as raised:
        load_strategy(mistake(workdir, name, old, new), STRATEGIES)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_an_unsupported_parameter_type_is_one_line_when_the_parameters_are_built(workdir):
    spec = mistake(workdir, "listed", "    slow: int = 20\n", "    slow: int = 20\n    levels: list[int] = (1, 2)\n")
    strategy = load_strategy(spec, STRATEGIES)
    with pytest.raises(ConfigError, match=r"parameter levels of FastSlowParams: type list\[int\] is not supported"):
        parse_params(strategy.Params, [], strategy.name)


def test_a_validate_that_raises_is_one_line_naming_its_line(workdir):
    spec = mistake(workdir, "typo", "require(self.slow > self.fast", "require(self.slow > self.fastt")
    strategy = load_strategy(spec, STRATEGIES)
    with pytest.raises(ConfigError) as raised:
        parse_params(strategy.Params, ["fast=3"], strategy.name)
    line = next(n for n, text in enumerate(GOOD.splitlines(), 1) if "require(self.slow" in text)
    assert str(raised.value) == (f"FastSlowParams.validate() raised AttributeError: 'FastSlowParams' object has no attribute "
                                 f"'fastt' at {workdir / 'typo.py'}:{line}")


def test_a_backtest_whose_setup_raises_is_one_line_naming_its_line_and_exit_2(workdir, capsys):
    spec = mistake(workdir, "setup_typo", "indicators.sma(self.params.fast)", "indicators.smaa(self.params.fast)")
    code = main(["--data", "demo", "-p", "60", "--quiet", "--strategy", spec])
    err = capsys.readouterr().err
    line = next(n for n, text in enumerate(GOOD.splitlines(), 1) if "indicators.sma(self.params.fast)" in text)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("candlebot: error: trend failed in setup: AttributeError: ")
    assert err.rstrip().endswith(f"at {workdir / 'setup_typo.py'}:{line}")


def test_help_names_the_subcommands_so_a_newcomer_finds_new_strategy():
    from candlebot.cli import SUBCOMMANDS
    from candlebot.cli.args import build_parser

    text = " ".join(build_parser().format_help().split())
    assert "candlebot new-strategy NAME" in text
    assert all(f"candlebot {name}" in text for name in SUBCOMMANDS)


def test_a_file_beside_the_strategy_never_hides_a_module_imported_after_loading(workdir, tmp_path_factory):
    """A user's ``secrets.py`` beside the strategy broke ``--report`` (numpy imports ``secrets`` late)."""
    installed = tmp_path_factory.mktemp("site")
    (installed / "late_probe.py").write_text("WHO = 'library'\n")
    sys.path.append(str(installed))  # stands for site-packages / the standard library (the fixture restores sys.path)
    (workdir / "late_probe.py").write_text("WHO = 'user'\n")
    (workdir / "late_helper.py").write_text("WHO = 'helper'\n")
    (workdir / "trend.py").write_text(GOOD)
    load_strategy("trend.py", STRATEGIES)

    assert importlib.import_module("late_probe").WHO == "library"
    assert importlib.import_module("late_helper").WHO == "helper"  # what the strategy imports later still resolves


def test_a_module_without_a_class_name_gives_its_only_strategy(workdir):
    (workdir / "mine").mkdir()
    (workdir / "mine" / "__init__.py").write_text("")
    (workdir / "mine" / "trend.py").write_text(GOOD)
    assert load_strategy("mine.trend", STRATEGIES).__name__ == "Trend"


def test_new_strategy_refuses_a_shipped_strategys_name(tmp_path):
    from candlebot.cli import new_strategy

    with pytest.raises(ConfigError, match="strategy name 'sma_cross' is a shipped strategy's"):
        new_strategy.main(["sma_cross", "--dir", str(tmp_path)])
    assert not (tmp_path / "sma_cross.py").exists()


@pytest.mark.parametrize("lookback, shown", [('"2"', "'2'"), ("0", "0"), ("2.5", "2.5")])
def test_a_lookback_that_is_not_a_whole_number_of_candles_is_one_line_and_exit_2(workdir, capsys, lookback, shown):
    setup = "def setup(self, indicators: BotIndicators) -> None:\n"
    spec = mistake(workdir, "lookback", setup, f"{setup}        self.lookback = {lookback}\n")
    code = main(["--data", "demo", "-p", "60", "--quiet", "--strategy", spec])
    assert code == 2 and capsys.readouterr().err == (
        f"candlebot: error: Trend.lookback must be a whole number of candles >= 1 (2: the rule reads i and i - 1), "
        f"got {shown}\n")


def test_a_file_loaded_by_its_path_imports_the_helpers_beside_it(workdir):
    (workdir / "sub").mkdir()
    (workdir / "sub" / "beside_helper.py").write_text("SLOW = 30\n")
    (workdir / "sub" / "trend.py").write_text(GOOD.replace("slow: int = 20", "slow: int = beside_helper.SLOW")
                                              .replace("from dataclasses import dataclass",
                                                       "from dataclasses import dataclass\nimport beside_helper"))
    assert load_strategy("sub/trend.py", STRATEGIES).Params().slow == 30


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_shipped_strategy_passes_the_checks_a_users_must(name):
    cls = STRATEGIES[name]
    assert load_strategy(f"{cls.__module__}:{cls.__name__}", {}) is cls
    assert load_strategy(cls.__module__, {}) is cls


def test_a_default_of_the_wrong_type_is_named_in_plain_english(workdir):
    strategy = load_strategy(mistake(workdir, "floaty", "fast: int = 5", "fast: int = 5.0"), STRATEGIES)
    with pytest.raises(ConfigError, match=r"^parameter fast of FastSlowParams must be an integer, got 5.0$"):
        parse_params(strategy.Params, [], strategy.name)


def test_a_validate_that_forgets_super_still_refuses_what_every_strategy_relies_on(workdir):
    strategy = load_strategy(mistake(workdir, "nosuper", "super().validate()", "pass"), STRATEGIES)
    with pytest.raises(ConfigError, match="num_simultaneous_trades must be >= 1"):
        parse_params(strategy.Params, ["num_simultaneous_trades=0"], strategy.name)
    with pytest.raises(ConfigError, match=r"stop_loss_pct must be within \[0, 100\)"):
        parse_params(strategy.Params, ["stop_loss_pct=-5"], strategy.name)


def test_a_cross_on_the_first_candle_never_reads_the_last_one():
    from array import array

    from candlebot.strategy import crossed_above, crossed_below

    rising, falling = array("d", [5.0, 1.0, 0.0]), array("d", [0.0, 1.0, 5.0])
    assert not crossed_above(rising, 2.0, 0) and not crossed_above(rising, array("d", [2.0] * 3), 0)
    assert not crossed_below(falling, 2.0, 0) and not crossed_below(falling, array("d", [2.0] * 3), 0)


def test_a_path_without_py_points_at_the_file_that_has_it(workdir):
    (workdir / "mine").mkdir()
    (workdir / "mine" / "trend.py").write_text(GOOD)
    with pytest.raises(ConfigError, match=r"file not found: mine/trend \(did you mean mine/trend.py\?\)$"):
        load_strategy("mine/trend", STRATEGIES)


def _backtest_summary(spec: str) -> dict:
    """An in-process backtest on the demo candles; its --json summary."""
    from io import StringIO

    from candlebot.cli import backtest
    from candlebot.cli.args import build_parser

    out, err = StringIO(), StringIO()
    args = build_parser().parse_args(["--data", "demo", "-p", "60", "--json", "--strategy", spec])
    assert backtest.run(args, out=out, err=err) == 0, err.getvalue()
    return json.loads(out.getvalue().splitlines()[-1])


def test_the_code_in_docs_strategies_md_runs_as_written(workdir):
    import re
    import textwrap
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "strategies.md").read_text(encoding="utf-8")
    template, setup = re.findall(r"```python\n(.*?)```", docs, re.S)
    (workdir / "ema_trend.py").write_text(template)
    assert _backtest_summary("ema_trend.py:EmaTrend")["strategy"] == "ema_trend"

    (workdir / "any_talib.py").write_text(
        "from candlebot.strategy import BotStrategy\n\n\nclass AnyTalib(BotStrategy):\n    name = 'any_talib'\n\n"
        + textwrap.indent(setup, "    ")
        + "\n    def evaluate_positions(self, i):\n        assert self.cci[i] == self.cci[i] and self.aroon_up[i] >= 0\n")
    summary = _backtest_summary("any_talib.py")
    assert summary["strategy"] == "any_talib" and summary["strategy_errors"] == 0
