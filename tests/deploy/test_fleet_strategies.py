"""A fleet runs the user's own strategies: ``strategy = "file.py:Class"`` and ``strategy_path`` reach every bot's
command line as absolute paths (a bot runs in its own folder), and candlebot fleet loads them before writing anything."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from supervisor.options import UnhosedConfigParser

REPO = Path(__file__).resolve().parents[2]
FLEET = REPO / "deploy" / "supervisor" / "generate.py"  # candlebot fleet, from the checkout
STRATEGY = """from candlebot.strategy import BotIndicators, BotStrategy


class {cls}(BotStrategy):
    name = "{name}"

    def setup(self, indicators: BotIndicators) -> None:
        self.sma = indicators.sma(10)

    def evaluate_positions(self, i: int) -> None:
        pass
"""


def generate(folder: Path, bots: str) -> subprocess.CompletedProcess:
    (folder / "fleet.toml").write_text(f'[fleet]\nroot = "bots"\n{bots}')
    return subprocess.run([sys.executable, str(FLEET), "fleet.toml"], capture_output=True, text=True, cwd=folder, timeout=60)


@pytest.fixture()
def deployment(tmp_path) -> Path:
    """A fleet folder holding the user's strategies: a file of its own and a folder of them."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/trend.py").write_text(STRATEGY.format(cls="Trend", name="trend"))
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/revert.py").write_text(STRATEGY.format(cls="Revert", name="revert"))
    return tmp_path


@pytest.mark.integration
@pytest.mark.slow
def test_file_strategies_and_strategy_path_reach_the_bots_as_absolute_paths(deployment):
    result = generate(deployment, '[[bot]]\nname = "a"\npair = "XBTUSD"\nstrategy = "mine/trend.py:Trend"\n'
                                  '[[bot]]\nname = "b"\npair = "XBTUSD"\nstrategy = "revert"\nstrategy_path = "lib"\n')
    assert result.returncode == 0, result.stderr
    config = UnhosedConfigParser()
    config.read_string(result.stdout)
    a, b = (shlex.split(config.get(f"program:{name}", "command")) for name in "ab")
    assert a[a.index("--strategy") + 1] == f"{deployment}/mine/trend.py:Trend"
    assert b[b.index("--strategy") + 1] == "revert" and b[b.index("--strategy-path") + 1] == f"{deployment}/lib"


@pytest.mark.parametrize(
    "bot, message",
    [
        ('strategy = "mine/trend.py:Trned"\n', "bot a: cannot load strategy '{dir}/mine/trend.py:Trned': "
                                               "{dir}/mine/trend.py has no class 'Trned'"),
        ('strategy = "revert"\n', "bot a: unknown strategy 'revert'"),
        ('strategy = "revert"\nstrategy_path = ["lib", "gone"]\n', "bot a: --strategy-path {dir}/gone: no such directory"),
        ('strategy = "revert"\nstrategy_path = 3\n', "strategy_path must be a folder or a list of folders"),
    ],
)
@pytest.mark.integration
@pytest.mark.slow
def test_a_strategy_the_bots_could_not_load_stops_the_generator_in_one_line(deployment, bot, message):
    result = generate(deployment, f'[[bot]]\nname = "a"\npair = "XBTUSD"\n{bot}')
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message.format(dir=deployment) in result.stderr
