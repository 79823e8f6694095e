"""How a run that must stop says so: one line in its log (CRITICAL) and on stderr, and the exit code.

    ConfigError, FatalExchangeError   flags, key or configuration: a person fixes them        stderr only, exit 2
    StateWriteError                   a bot's state file refuses writes: nothing can be recorded  log + stderr, exit 2
    BooksInvariantError               a bot's books broke an invariant: a person checks them      log + stderr, exit 2
    StrategyError                     the strategy's own code failed where no candle can be        log with traceback
                                      skipped (its setup): its author fixes it                     + stderr, exit 2
    any other exception               a bug in candlebot (never the strategy's own: the engine     log with traceback
                                      skips the candle its code fails on)                          + stderr, exit 1

A running bot is crash-only: supervisor restarts it on a non-zero exit and its
start-up (which is recovery) takes over from the state file; the traceback of a
bug goes to its log file, so stderr (supervisor's console log) keeps one line.
A backtest has no state to protect: whatever escapes its engine is a bug, whose
traceback its log (stderr, or stdout with --verbose) shows as the bug report,
before the one line that says so.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import TextIO

from candlebot.errors import BooksInvariantError, ConfigError, FatalExchangeError, StateWriteError, StrategyError

BUG_EXIT = 1
STOP_EXIT = 2
BOT_STOPS = (StateWriteError, BooksInvariantError)  # a running bot stops on these by design; anything else is a bug


def stopped(error: Exception, log: logging.Logger, err: TextIO | None = None,
            expected: tuple[type[Exception], ...] = BOT_STOPS, prog: str = "candlebot") -> int:
    """Report why the run stops (log first, then stderr, as ``prog: error: ...``) and return its exit code."""
    err = err or sys.stderr
    if isinstance(error, (ConfigError, FatalExchangeError)):
        print(f"{prog}: error: {error}", file=err)
        return STOP_EXIT
    bug = not isinstance(error, (*expected, StrategyError))
    if bug:
        line = f"internal error (a bug in candlebot): {type(error).__name__}: {error}"
    elif isinstance(error, StrategyError):
        line = str(error)
    elif isinstance(error, StateWriteError):
        line = f"{error}; no order is sent while the bot cannot record it: fix the state file or its disk, then restart"
    else:
        line = f"the books broke an invariant: {error}; a person must check the books against the account " \
               "before the bot trades again"
    with_traceback = bug or isinstance(error, StrategyError)
    if log.hasHandlers():
        log.critical("stopped: %s", line, exc_info=error if with_traceback else None)
        for handler in log.handlers:
            handler.flush()
    elif with_traceback:  # no log yet to keep the traceback: stderr holds it
        traceback.print_exception(error, file=err)
    print(f"{prog}: error: {line if bug else error}", file=err)
    return BUG_EXIT if bug else STOP_EXIT
