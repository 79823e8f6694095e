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
