"""Progress bars for long runs (tqdm, imported only when one is shown): on a terminal only, silent in pipes."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

LONG_RUN_CANDLES = 200_000  # below this a backtest ends before a bar is worth drawing


def wanted(stream: TextIO, candles: int) -> bool:
    return candles >= LONG_RUN_CANDLES and stream.isatty()


@contextmanager
def progress_bar(stream: TextIO, total: int, desc: str, unit: str) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(done)`` taking the absolute amount done so far; the bar is cleared when the block ends."""
    from tqdm import tqdm  # imported on demand: pipes and short runs never pay for it

    bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=stream, leave=False, dynamic_ncols=True)
    try:
        def advance(done: int) -> None:
            bar.update(done - bar.n)

        yield advance
    finally:
        bar.close()
