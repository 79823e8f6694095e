"""Headless Chromium (the Debian package) driven by playwright: no browser download, no network, a fresh profile."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]


@contextmanager
def chromium_page(width: int = 1400, height: int = 1000, timezone: str | None = None) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="candlebot-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM), headless=True, args=FLAGS,
                                                        viewport={"width": width, "height": height},
                                                        timezone_id=timezone)
        try:
            yield context.new_page()
        finally:
            context.close()
