"""Error lines a new user met (brief polish5 item 3): each names the command as typed once, the flag as typed, and
what was meant; and counts agree with their nouns."""

from __future__ import annotations

import contextlib
import io

import pytest

from candlebot.cli import main


def refused(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own refusals
            code = int(exc.code or 0)
    return code, err.getvalue()


@pytest.mark.parametrize("argv, line", [
    (["download", "-c", "DOGEUSD"],
     "candlebot download: error: -p MINUTES is required (the candle period to build)"),
    (["collector", "book", "--db", "sqlite:///FOLDER/none.db", "-c", "XBTUSD", "--at", "2023-01-01"],
     "candlebot collector book: error: --db sqlite:///FOLDER/none.db: no such file"),
    (["collector", "export", "--db", "sqlite:///FOLDER/none.db", "-c", "XBTUSD", "--from", "2023-01-01", "--to", "2023-01-02"],
     "candlebot collector export: error: --db sqlite:///FOLDER/none.db: no such file"),
    (["fleet", "--bogus"], "candlebot fleet: error: unrecognized arguments: --bogus"),
    (["collector", "lst"],
     "candlebot collector: error: unknown collector subcommand 'lst'; the collector subcommands: run, book, export"),
    (["collector", "exprt"], "candlebot collector: error: unknown collector subcommand 'exprt' (did you mean export?); "
                             "the collector subcommands: run, book, export"),
    (["backtest", "--data", "demo", "--strategy", "sma_cross", "-p", "0"],
     "candlebot backtest: error: argument -p/--period: candle period must be a positive number of minutes, got 0.0"),
    (["download", "-c", "XBTUSD", "-p", "0.001", "--from", "2024-01-01"],
     "candlebot download: error: argument -p/--period: candle period 0.001 min is not a whole number of seconds "
     "(e.g. 0.05 = 3 s, 1/60 = 1 s)"),
])
def test_one_line_names_the_command_and_flag_as_typed(argv: list[str], line: str, tmp_path) -> None:
    code, err = refused([arg.replace("FOLDER", str(tmp_path)) for arg in argv])

    assert (code, err) == (2, line.replace("FOLDER", str(tmp_path)) + "\n")


def test_optimize_counts_agree_with_their_nouns(shared_data) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["optimize", "--data", str(shared_data / "kraken" / "xbtusd_1d_2023q1.csv"), "--strategy",
                     "sma_cross", "--space", "fast=2,5 slow=5", "--jobs", "1"])

    assert code == 0
    assert "1 trial run, 1 invalid combination skipped" in out.getvalue()


@pytest.mark.parametrize("command", ["backtest", "optimize"])
def test_spread_help_is_plain_text(command: str) -> None:
    """The help said `candlebot replay` in backticks: markdown, not what a terminal shows."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(out.getvalue().split())

    assert "candlebot replay measures what your bots paid" in help_text and "`" not in help_text
