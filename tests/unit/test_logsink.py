"""The log sink: a strategy failing on every candle is reported, but does not flood the log."""

from __future__ import annotations

import io
import logging

from candlebot.events import BotError, EventBus
from candlebot.output.logsink import LogSink


def _logger(stream: io.StringIO) -> logging.Logger:
    log = logging.getLogger(f"test.logsink.{id(stream)}")
    log.propagate = False
    log.setLevel(logging.WARNING)
    handler = logging.StreamHandler(stream)
    log.addHandler(handler)
    return log


def test_strategy_errors_are_logged_three_times_then_at_every_tenfold():
    stream = io.StringIO()
    bus = EventBus()
    LogSink(_logger(stream)).attach(bus)
    for n in range(1, 1001):
        bus.emit(BotError(float(n), "strategy", f"boom #{n}"))
    bus.emit(BotError(2000.0, "state", "cannot write state file"))

    lines = stream.getvalue().splitlines()
    assert [line.split("#")[1].split()[0] for line in lines[:-1]] == ["1", "2", "3", "10", "100", "1000"]
    assert lines[2].endswith("(3 so far: from now on only the 10th, 100th, ... are logged)")
    assert lines[4].endswith("(100 so far)")
    assert lines[-1] == "state error: cannot write state file"  # other errors are never thinned out
