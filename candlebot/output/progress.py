"""Progress bars for long runs (tqdm, imported only when one is shown): on a terminal only, silent in pipes."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

LONG_RUN_CANDLES = 200_000  # below this a backtest ends before a bar is worth drawing


def wanted(stream: TextIO, candles: int) -> bool:
    return candles >= LONG_RUN_CANDLES and stream.isatty()


@contextmanager
def progress_bar(stream: TextIO, total: int, desc: str, unit: str) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(done)`` taking the absolute amount done so far; the bar is cleared when the block ends."""
    from tqdm import tqdm  # imported on demand: pipes and short runs never pay for it

    sized = _columns(stream) > 0  # a terminal that reports no size (a bare pty) gets 80x24, or tqdm draws nothing
    bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=stream, leave=False, dynamic_ncols=sized,
               ncols=None if sized else 80, nrows=None if sized else 24)
    try:
        def advance(done: int) -> None:
            bar.update(done - bar.n)

        yield advance
    finally:
        bar.close()


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        return 0
