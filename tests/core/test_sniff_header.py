"""The header is read from the file's first 64 KiB (issue 23: inflating a whole 1 MiB gzip chunk for it cost every
cached backtest ~10 ms); a longer header line, or a damaged file, is still read or refused by the full reader."""

from __future__ import annotations

import gzip

import pytest

from candlebot.data.candlefile import sniff_header
from candlebot.errors import DataFileError

HEADER = "time,open,high,low,close,volume"


@pytest.mark.parametrize("zipped", [False, True])
@pytest.mark.parametrize("header, rows", [
    (HEADER, "1,2,3,1,2,5\n" * 50_000),
    ("Time, Price ,volume,side", "1,2,3,b\n"),
    (HEADER + "," + ",".join(f"extra{k}" for k in range(12_000)), "1,2,3,1,2,5\n"),  # a header line over 64 KiB
    (HEADER, ""),  # no row, no newline
    ("", ""),  # an empty file
])
def test_the_header_is_the_first_line_whatever_its_length(tmp_path, zipped, header, rows):
    text = header + ("\n" + rows if rows else "")
    path = tmp_path / ("f.csv.gz" if zipped else "f.csv")
    path.write_bytes(gzip.compress(text.encode()) if zipped else text.encode())
    assert sniff_header(path) == tuple(name.strip().lower() for name in header.split(","))


def test_a_damaged_gzip_file_is_refused_in_one_line(tmp_path):
    path = tmp_path / "f.csv.gz"
    path.write_bytes(b"\x1f\x8b" + b"not gzip at all" * 10)
    with pytest.raises(DataFileError, match="not a valid gzip file"):
        sniff_header(path)
