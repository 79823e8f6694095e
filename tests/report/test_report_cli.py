"""--report / --report-png from the command line: bad paths are one line and exit 2, the picture is a real PNG."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest

from tests.conftest import REPO


def _candlebot(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "candlebot", *argv], capture_output=True, text=True, cwd=REPO, timeout=120)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("flag", ["--report", "--report-png"])
def test_a_report_into_a_missing_folder_is_refused_before_the_run(shared_data, tmp_path, flag):
    result = _candlebot("--data", str(shared_data / "kraken/xbtusd_1d_2023q1.csv"), "--strategy", "sma_cross",
                        flag, str(tmp_path / "nowhere" / "r.out"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"candlebot: error: {flag}: folder of ")


@pytest.mark.integration
@pytest.mark.slow
def test_report_png_is_a_picture_of_the_run(shared_data, tmp_path):
    png = tmp_path / "r.png"
    result = _candlebot("--data", str(shared_data / "kraken/xbtusd_1h_2023q1.csv"), "--strategy", "macd", "--report-png", str(png))
    assert result.returncode == 0, result.stderr
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (1400, 900) and png.stat().st_size > 50_000
    from PIL import Image  # matplotlib's own dependency

    image = Image.open(png).convert("RGB")
    pixels = (image.getpixel((x, y)) for y in range(image.height) for x in range(image.width))
    colours = {(26, 152, 80): 0, (215, 48, 39): 0, (0, 80, 255): 0, (255, 0, 170): 0}  # up and down candles, buy and sell fills
    for pixel in pixels:
        if pixel in colours:
            colours[pixel] += 1
    assert all(count > 20 for count in colours.values()), colours
