"""TA-Lib, imported without pandas or polars.

TA-Lib 0.8 imports pandas and polars whenever they are installed, only so that
its functions accept their Series. candlebot hands it numpy arrays, so that
import is pure cost for a bot or a backtest: about 0.25 s at start and 30 MiB
of RSS per process (a bot goes from ~54 to ~87 MiB). While TA-Lib loads, the
two names are marked absent in ``sys.modules`` (the import system's own
"not importable" marker, which makes ``import pandas`` raise
ModuleNotFoundError, exactly what TA-Lib expects when pandas is not
installed); the marks are removed right after, so any later ``import pandas``
works normally. A process that already loaded pandas keeps it.
"""

from __future__ import annotations

import sys
from types import ModuleType

HIDDEN = ("pandas", "polars")


def _import_talib() -> tuple[ModuleType, ModuleType, ModuleType]:
    hidden = [name for name in HIDDEN if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import talib
        from talib import abstract, stream
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return talib, abstract, stream


talib, abstract, stream = _import_talib()
