"""How a run that must stop says so: one line on stderr, the log first (with the traceback of a bug), the exit code."""

from __future__ import annotations

import gc
import logging
from decimal import Decimal
from io import StringIO

import pytest

from candlebot.chart import Chart
from candlebot.cli import backtest
from candlebot.cli.args import build_parser
from candlebot.cli.stopping import stopped
from candlebot.errors import ConfigError, StateWriteError, StrategyError
from candlebot.strategy.base import BotStrategy, StrategyContext
from candlebot.strategy.indicators import BotIndicators
from candlebot.trading.strategydesk import StrategyDesk
from tests.unit.desk import Desk


class Tamper(BotStrategy):
    """Digs past its read-only views (no attribute reaches the books: it searches the heap) and rewrites the books:
    the ledger refuses cash below zero, and the run must stop on it."""

    name = "tamper"
    lookback = 1

    def evaluate_positions(self, i: int) -> None:
        ledger = next(o for o in gc.get_objects() if type(o).__name__ == "Ledger")
        ledger.restore([], Decimal(-1))


def _log() -> tuple[logging.Logger, StringIO]:
    stream = StringIO()
    log = logging.getLogger(f"test.stopping.{id(stream)}")
    log.propagate, log.handlers = False, [logging.StreamHandler(stream)]
    return log, stream


def _raised(error: Exception) -> Exception:
    try:
        raise error
    except Exception as exc:
        return exc


def test_a_bot_stops_on_a_state_file_that_refuses_writes_with_one_line_and_exit_2():
    log, stream = _log()
    err = StringIO()

    code = stopped(StateWriteError("cannot write state file bot.sqlite: disk I/O error"), log, err)

    assert code == 2 and err.getvalue() == "candlebot: error: cannot write state file bot.sqlite: disk I/O error\n"
    assert stream.getvalue().startswith("stopped: cannot write state file bot.sqlite: disk I/O error; no order is sent")
    assert "Traceback" not in stream.getvalue()


def test_a_bug_keeps_its_traceback_in_the_log_and_exits_1():
    log, stream = _log()
    err = StringIO()

    code = stopped(_raised(KeyError("fill_volume")), log, err)

    assert code == 1 and err.getvalue() == "candlebot: error: internal error (a bug in candlebot): KeyError: 'fill_volume'\n"
    assert "Traceback" in stream.getvalue() and "raise error" in stream.getvalue()


def test_a_user_mistake_is_one_line_and_no_log():
    log, stream = _log()
    err = StringIO()

    assert stopped(ConfigError("--cash must be positive"), log, err) == 2
    assert err.getvalue() == "candlebot: error: --cash must be positive\n" and stream.getvalue() == ""


def test_a_backtest_whose_books_break_stops_with_the_traceback_then_one_line(shared_data):
    argv = ["--data", str(shared_data / "kraken/xbtusd_1d_2023q1.csv"), "--strategy", "tests.unit.test_stopping:Tamper",
            "--no-cache"]
    out, err = StringIO(), StringIO()

    code = backtest.run(build_parser().parse_args(argv), out, err)

    lines = err.getvalue().strip().splitlines()
    assert code == 1 and out.getvalue() == ""
    assert lines[-1] == "candlebot: error: internal error (a bug in candlebot): BooksInvariantError: stored cash -1 is below zero"
    assert lines[0].endswith(":CRITICAL: stopped: internal error (a bug in candlebot): BooksInvariantError: "
                             "stored cash -1 is below zero")
    assert lines[1] == "Traceback (most recent call last):" and "in evaluate_positions" in err.getvalue()
    assert "strategy error" not in err.getvalue()


def test_a_strategy_failing_in_setup_is_named_as_the_strategys_and_exits_2(tmp_path):
    class Typo(BotStrategy):
        name = "typo"

        def setup(self, indicators) -> None:
            self.fast = indicators.smaa(5)  # no such facade

    log, stream = _log()
    err = StringIO()
    desk = Desk(tmp_path)
    chart = Chart("XBTUSD", 60)
    with pytest.raises(StrategyError) as raised:
        Typo(Typo.Params(), StrategyContext(chart, BotIndicators(chart), StrategyDesk(desk.trader).view))

    code = stopped(raised.value, log, err)

    assert code == 2 and err.getvalue().startswith("candlebot: error: typo failed in setup: AttributeError:")
    assert "Traceback" in stream.getvalue() and "self.fast = indicators.smaa(5)" in stream.getvalue()
