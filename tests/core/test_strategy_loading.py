"""Strategies anyone can load: every --strategy form, one line per mistake, the interface version,
``candlebot new-strategy`` and ``candlebot --version`` through the real commands."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import candlebot
from candlebot.cli import new_strategy
from candlebot.errors import ConfigError
from candlebot.strategies import STRATEGIES
from candlebot.strategy import INTERFACE_VERSION, BotStrategy
from candlebot.strategy.loader import CURRENT_INTERFACE, OLDEST_INTERFACE, load_strategy

REPO = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = Path(sys.executable).with_name("candlebot")  # unlike `python -m`, it does not put the cwd on sys.path

STRATEGY = textwrap.dedent('''
    from dataclasses import dataclass

    from candlebot.strategy import BotIndicators, BotStrategy, StrategyParams, crossed_above, crossed_below, require


    @dataclass(frozen=True)
    class FastSlowParams(StrategyParams):
        fast: int = 5
        slow: int = 20

        def validate(self) -> None:
            super().validate()
            require(self.slow > self.fast, "slow must be longer than fast")


    class {cls}(BotStrategy):
        name = "{name}"
        Params = FastSlowParams
        {extra}

        def setup(self, indicators: BotIndicators) -> None:
            self.fast, self.slow = indicators.sma(self.params.fast), indicators.sma(self.params.slow)

        def evaluate_positions(self, i: int) -> None:
            if not self.open_trades and crossed_above(self.fast, self.slow, i):
                self.buy()
            elif self.open_trades and crossed_below(self.fast, self.slow, i):
                self.close_all()
''')


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def source(cls: str, name: str, extra: str = "") -> str:
    return STRATEGY.format(cls=cls, name=name, extra=extra)


def strategy_file(path: Path, cls: str = "FastSlow", name: str = "fast_slow") -> Path:
    return write(path, source(cls, name))


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    """A current directory of the user's own; the loader's additions to sys.path and sys.modules are undone after."""
    monkeypatch.chdir(tmp_path)
    path, modules = list(sys.path), set(sys.modules)
    yield tmp_path
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        del sys.modules[name]


def load(spec: str, *search_path: Path) -> type[BotStrategy]:
    return load_strategy(spec, STRATEGIES, list(search_path))


# -- the forms ------------------------------------------------------------------------------------------


def test_a_shipped_name_is_the_registrys_class_even_beside_a_file_of_that_name(workdir):
    strategy_file(workdir / "sma_cross.py", cls="Imposter")
    assert load("sma_cross") is STRATEGIES["sma_cross"]
    assert load("./sma_cross.py").__name__ == "Imposter"


@pytest.mark.parametrize("spec", ["fast_slow.py:FastSlow", "fast_slow.py", "./fast_slow.py", "fast_slow", "fast_slow:FastSlow"])
def test_a_file_in_the_current_directory_loads_in_every_form(workdir, spec):
    strategy_file(workdir / "fast_slow.py")
    strategy = load(spec)
    assert issubclass(strategy, BotStrategy) and strategy.name == "fast_slow"
    assert strategy.Params(fast=3).fast == 3  # typed params resolve their annotations in the private module


def test_a_relative_path_is_read_from_the_current_directory(workdir):
    strategy_file(workdir / "deep/er/mine.py", cls="Mine")
    assert load("deep/er/mine.py:Mine").__name__ == "Mine"


def test_strategy_path_directories_are_searched_for_names_and_modules_and_helpers_beside_them(workdir):
    lib = workdir / "lib"
    strategy_file(lib / "trend.py", cls="Trend")
    write(lib / "shared_rules.py", "WINDOW = 7\n")
    write(lib / "usershelper.py", "from shared_rules import WINDOW\n" + source("Helped", "helped"))
    strategy_file(lib / "pkg/sub/mod.py", cls="Nested")
    write(lib / "pkg/__init__.py", "")
    write(lib / "pkg/sub/__init__.py", "")
    assert load("trend", lib).__name__ == "Trend"
    assert load("usershelper", lib).__name__ == "Helped"
    assert load("pkg.sub.mod:Nested", lib).__name__ == "Nested"


def test_strategy_path_comes_before_the_current_directory(workdir):
    strategy_file(workdir / "twin.py", cls="InCwd")
    strategy_file(workdir / "lib/twin.py", cls="InLib")
    assert load("twin", workdir / "lib").__name__ == "InLib"
    assert load("twin").__name__ == "InCwd"


def test_files_with_the_same_name_in_two_folders_stay_two_strategies(workdir):
    first = load(str(strategy_file(workdir / "a/strategy.py", cls="First")))
    second = load(str(strategy_file(workdir / "b/strategy.py", cls="Second")))
    assert (first.__name__, second.__name__) == ("First", "Second")
    assert first.__module__ != second.__module__ and "strategy" not in sys.modules


def test_every_supported_interface_loads_and_the_template_declares_the_current_one(workdir):
    from candlebot.strategy.template import MyStrategy

    assert MyStrategy.interface == INTERFACE_VERSION == BotStrategy.interface == CURRENT_INTERFACE
    for version in range(OLDEST_INTERFACE, CURRENT_INTERFACE + 1):
        write(workdir / f"v{version}.py", source(f"V{version}", f"v{version}", f"interface = {version}"))
        assert load(f"v{version}.py").interface == version


# -- one line per mistake ------------------------------------------------------------------------------


BROKEN = {
    "syntax.py": "from candlebot.strategy import BotStrategy\n\nclass Broken(BotStrategy)\n    pass\n",
    "needs_lib.py": "import numpy\nimport moonshot_indicators  # not installed\n",
    "raises.py": "SETTING = 1\nraise RuntimeError('no API key in the strategy, please')\n",
    "plain.py": "class NotAStrategy:\n    pass\n",
    "two.py": source("One", "one") + "\n\nclass Two(One):\n    name = 'two'\n",
    "future.py": source("Future", "future", "interface = 99"),
    "ancient.py": source("Ancient", "ancient", "interface = 0"),
    "odd.py": source("Odd", "odd", 'interface = "1"'),
}


@pytest.mark.parametrize(
    "spec, message",
    [
        ("missing.py:Thing", "cannot load strategy 'missing.py:Thing': file not found: missing.py"),
        ("syntax.py", "cannot load strategy 'syntax.py': syntax error at {dir}/syntax.py:3: expected ':'"),
        ("needs_lib.py", "cannot load strategy 'needs_lib.py': {dir}/needs_lib.py:2 imports 'moonshot_indicators', which is not installed"),
        ("needs_lib:Thing", "{dir}/needs_lib.py:2 imports 'moonshot_indicators', which is not installed"),
        ("raises.py", "cannot load strategy 'raises.py': {dir}/raises.py:2 raised RuntimeError: no API key in the strategy, please"),
        ("two.py:Three", "two.py has no class 'Three' (BotStrategy subclasses defined there: One, Two)"),
        ("plain.py:NotAStrategy", "plain.py:NotAStrategy is not a BotStrategy subclass"),
        ("plain.py", "plain.py defines no BotStrategy subclass"),
        ("two.py", "two.py defines 2 BotStrategy subclasses (One, Two): name one, e.g. two.py:One"),
        ("future.py", "it is written for strategy interface 99; this candlebot implements interface 2: upgrade candlebot"),
        ("ancient.py", "it is written for strategy interface 0, which this candlebot no longer supports (oldest: 1)"),
        ("odd.py", "interface must be an integer (interface = 2), got '1'"),
        ("nowhere.mod:Thing", "cannot load strategy 'nowhere.mod:Thing': no module named 'nowhere'"),
        ("my-strats:Thing", "'my-strats' is neither a module name (package.module) nor a .py file"),
        ("plain.py:9lives", "'9lives' is not a class name"),
        ("moon_shot", "unknown strategy 'moon_shot' (available: bollinger, direction_mask, macd, parabolic_sar_stochastic, "
                      "sma_cross, stochastic, stochastic_sr_ma; no moon_shot.py in {dir}"),
    ],
)
def test_every_mistake_is_one_config_error_line(workdir, spec, message):
    for name, text in BROKEN.items():
        write(workdir / name, text)
    with pytest.raises(ConfigError) as raised:
        load(spec)
    text = str(raised.value)
    assert message.format(dir=workdir) in text and "\n" not in text


def test_a_strategy_path_that_is_not_a_directory_is_refused(workdir):
    with pytest.raises(ConfigError, match="--strategy-path nowhere: no such directory"):
        load("sma_cross.py", Path("nowhere"))


# -- through the real commands ---------------------------------------------------------------------------


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    assert CONSOLE_SCRIPT.exists(), f"{CONSOLE_SCRIPT} missing: install candlebot into this environment (pip install -e .)"
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=120)


def summary(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.integration
@pytest.mark.slow
def test_the_console_script_imports_a_package_from_the_current_directory_and_ignores_a_users_strategies_package(tmp_path):
    """`--strategy mypkg.mod:Class` failed unless the user set PYTHONPATH (issue 9); a user's own `strategies`
    package must not shadow candlebot's."""
    write(tmp_path / "mypkg/__init__.py", "")
    strategy_file(tmp_path / "mypkg/mod.py", cls="Mine", name="mine")
    write(tmp_path / "strategies/__init__.py", "raise ImportError('the user\\'s own strategies package')\n")
    mine = summary(run([str(CONSOLE_SCRIPT), "--data", "demo", "-p", "60", "--strategy", "mypkg.mod:Mine", "--json"], tmp_path))
    shipped = summary(run([str(CONSOLE_SCRIPT), "--data", "demo", "-p", "60", "--strategy", "sma_cross", "--json"], tmp_path))
    assert mine["strategy"] == "mine" and mine["trades"] > 0
    assert shipped["strategy"] == "sma_cross"


@pytest.mark.integration
@pytest.mark.slow
def test_new_strategy_writes_a_template_that_backtests_as_printed_and_is_never_overwritten(tmp_path):
    (tmp_path / "mine").mkdir()
    created = run([str(CONSOLE_SCRIPT), "new-strategy", "ema_trend", "--dir", "mine"], tmp_path)
    assert created.returncode == 0, created.stderr
    path = tmp_path / "mine/ema_trend.py"
    text = path.read_text()
    assert "class EmaTrend(BotStrategy):" in text and 'name = "ema_trend"' in text and "MyStrategy" not in text
    assert f"interface = {INTERFACE_VERSION}" in text
    command = next(line.strip() for line in created.stdout.splitlines() if line.strip().startswith("candlebot "))
    assert command == "candlebot backtest --data demo -p 60 --strategy mine/ema_trend.py:EmaTrend"
    report = summary(run([str(CONSOLE_SCRIPT), *shlex.split(command)[1:], "--json"], tmp_path))
    assert report["strategy"] == "ema_trend" and report["trades"] > 0

    again = run([str(CONSOLE_SCRIPT), "new-strategy", "ema_trend", "--dir", "mine"], tmp_path)
    assert again.returncode == 2 and again.stderr.strip() == (
        "candlebot new-strategy: error: mine/ema_trend.py already exists: choose another name or --dir (nothing was overwritten)")
    assert path.read_text() == text


@pytest.mark.parametrize(
    "name, message",
    [
        ("9lives", "strategy name '9lives': start with a letter"),
        ("ema-trend", "strategy name 'ema-trend': start with a letter"),
        ("lambda", "strategy name 'lambda' is a Python keyword"),
        ("json", "strategy name 'json' is already a Python module; {dir}/json.py would hide it from imports"),
        ("strategy", "strategy name 'strategy' would define StrategyParams, which the template imports"),
    ],
)
def test_new_strategy_refuses_a_bad_name_in_one_line(tmp_path, name, message):
    with pytest.raises(ConfigError) as raised:
        new_strategy.main([name, "--dir", str(tmp_path)])
    assert str(raised.value).startswith(message.format(dir=tmp_path)) and "\n" not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.integration
@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag):
    result = subprocess.run([sys.executable, "-m", "candlebot", flag], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0 and result.stdout == f"candlebot {candlebot.__version__}\n" == "candlebot 0.1.0\n"
