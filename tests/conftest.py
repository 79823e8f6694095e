"""Shared fixtures: where the recorded market data lives (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"recorded market data not found at {SHARED_DATA} (../shared/data beside the checkout)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the whole run; tests make their own databases in it."""
    from tests.support import postgres

    if not postgres.available():
        pytest.fail(f"PostgreSQL 15 not found under {postgres.PG_BIN} (.ci/run installs it)")
    server = postgres.start()
    try:
        yield server
    finally:
        postgres.stop(server)


@pytest.fixture(scope="session", autouse=True)
def candle_cache_dir(tmp_path_factory) -> Path:
    """Backtests (in-process and child processes) cache candles here, never beside the shared recorded data."""
    import os

    directory = tmp_path_factory.mktemp("candle-cache")
    os.environ["CANDLEBOT_CACHE_DIR"] = str(directory)
    return directory
