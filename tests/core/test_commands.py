"""A newcomer finds the commands: bare ``candlebot`` and ``candlebot help`` list them, ``candlebot strategies`` lists
what ``--strategy`` can name, and each command's ``--help`` shows its own flags only."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from candlebot.cli import SUBCOMMANDS, main

REPO = Path(__file__).resolve().parents[2]
BOT_ONLY = ("--live", "--paper", "--validate", "--state-dir", "--log-dir", "--poll", "--reconcile-window", "--audit-interval",
            "--stop-after", "--key-file", "--kraken-tier", "--max-price-deviation", "--name")
BACKTEST_ONLY = ("--data", "--cache-dir", "--no-cache", "--slippage-bps", "--png", "--verbose", "--json", "--trades-csv")


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as done:
        main([*argv, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def _flags(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text))


@pytest.mark.integration
@pytest.mark.parametrize("argv", [[], ["help"]])
def test_bare_candlebot_and_help_list_every_command_one_line_each_and_exit_0(argv):
    result = subprocess.run([sys.executable, "-m", "candlebot", *argv], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    for name in [*SUBCOMMANDS, "backtest", "run", "help"]:
        [line] = [line for line in lines if line.startswith(f"  {name} ")]
        assert len(line.split(None, 1)[1]) > 10  # says what it does
    assert "candlebot demo" in result.stdout and "candlebot backtest --data demo --strategy sma_cross" in result.stdout


def test_help_command_shows_that_commands_flags(capsys):
    with pytest.raises(SystemExit) as done:
        main(["help", "optimize"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("usage: candlebot optimize ")


def test_an_unknown_command_is_one_line_with_a_suggestion(capsys):
    assert main(["donwload", "-c", "XBTUSD"]) == 2
    err = capsys.readouterr().err
    assert err == "candlebot: error: unknown command 'donwload' (did you mean download?); candlebot help lists the commands\n"


def test_optimize_help_shows_the_worker_and_no_bot_flags(capsys):
    flags = _flags(_help(capsys, "optimize"))
    assert {"--worker", "--space", "--data", "--from", "--to", "--pair", "--output"} <= flags
    assert flags.isdisjoint(BOT_ONLY + ("--png", "--trades-csv", "--statsd", "--slack"))


def test_backtest_help_has_no_bot_flags_and_run_help_no_backtest_flags(capsys):
    backtest = _flags(_help(capsys, "backtest"))
    assert {"--data", "--from", "--to", "--output", "--strategy"} <= backtest and backtest.isdisjoint(BOT_ONLY)
    run = _flags(_help(capsys, "run"))
    assert {"--live", "--paper", "--kraken-url", "--pair", "--strategy"} <= run and run.isdisjoint(BACKTEST_ONLY)


@pytest.mark.integration
def test_backtest_and_run_are_the_original_forms_with_their_own_flags_only(tmp_path):
    def candlebot(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "candlebot", *argv], capture_output=True, text=True, cwd=REPO, timeout=120)

    same = [candlebot(*prefix, "--data", "demo", "-p", "60", "--strategy", "sma_cross", "--json") for prefix in ([], ["backtest"])]
    assert same[0].returncode == same[1].returncode == 0
    summaries = [json.loads(result.stdout.splitlines()[-1]) for result in same]
    for summary in summaries:
        summary.pop("elapsed_s")
    assert summaries[0] == summaries[1] and summaries[0]["trades"] > 0
    refused = candlebot("run", "--data", "demo", "--strategy", "sma_cross")
    assert refused.returncode == 2 and refused.stderr == "candlebot run: error: unrecognized arguments: --data demo\n"
    refused = candlebot("backtest", "--data", "demo", "--strategy", "sma_cross", "--live")
    assert refused.returncode == 2 and refused.stderr == "candlebot backtest: error: unrecognized arguments: --live\n"


def test_strategies_lists_the_built_in_ones_with_their_parameters_and_defaults(capsys):
    from candlebot.assembly import STRATEGIES

    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    for name in STRATEGIES:
        assert re.search(rf"^  {name} +\S", out, re.M), name
    assert re.search(r"^  sma_cross +the reference trend follower.*\n +fast=10  slow=30$", out, re.M)
    assert "mask=1,1,1,1,1,0,0" in out and "every strategy also takes: num_simultaneous_trades=1  stop_loss_pct=0.0" in out


def test_strategies_lists_the_files_on_the_strategy_path_and_says_why_one_does_not_load(capsys, tmp_path):
    from candlebot.cli.new_strategy import main as new_strategy

    assert new_strategy(["ema_trend", "--dir", str(tmp_path)]) == 0
    (tmp_path / "helpers.py").write_text("WINDOW = 3\n")  # no strategy in it: not listed
    (tmp_path / "two.py").write_text("from candlebot.strategy import BotStrategy\n\nclass Odd(BotStrategy):\n    name = 'odd'\n"
                                      "    def evaluate_positions(self, i):\n        return None\n\n"
                                      "class Broken(BotStrategy):\n    name = 'broken'\n    Params = 3\n")
    capsys.readouterr()
    assert main(["strategies", "--strategy-path", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"in {tmp_path} (--strategy-path" in out
    assert re.search(r"^  ema_trend +\S.*\n +fast=\d+  slow=\d+", out, re.M)
    assert re.search(r"^  two +cannot load strategy .*Broken", out, re.M)
    assert "helpers" not in out


def test_strategies_with_a_missing_directory_is_one_line_and_exit_2(capsys, tmp_path):
    assert main(["strategies", "--strategy-path", str(tmp_path / "nope")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"candlebot strategies: error: --strategy-path {tmp_path / 'nope'}: no such directory\n"
