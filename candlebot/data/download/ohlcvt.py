"""Import of Kraken's downloadable OHLCVT archives (a zip of ``PAIR_MINUTES.csv`` files).

Each file is CSV without a header, ``time,open,high,low,close,volume,trades``, one row per interval that
had trades. Some published files are malformed, so every row is checked: seven fields, whole-second times
on the interval's grid (not milliseconds) and strictly increasing, positive finite prices with low and high bracketing open
and close, volume and trade count >= 0. Good rows are written, values untouched, as a candle CSV
(``<data-dir>/<PAIR>_<period>.csv``, atomically; none when no row is good); bad rows are left out and reported by file and line.
"""

from __future__ import annotations

import io
import math
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from candlebot.data.candlefile import CANDLE_HEADER, MILLISECONDS_ABOVE
from candlebot.data.download.candles import period_label
from candlebot.errors import ConfigError

MEMBER = re.compile(r"(?:^|/)([A-Za-z0-9.]+)_(\d+)\.csv$")


@dataclass(frozen=True)
class ImportedFile:
    member: str
    pair: str
    minutes: int
    rows: int
    bad_rows: int
    examples: tuple[str, ...]  # the first few bad rows, "member:line: why"
    output: Path

    def describe(self) -> str:
        text = f"{self.member}: {self.rows} candles -> {self.output}" if self.rows else f"{self.member}: 0 candles, nothing written"
        if self.bad_rows:
            text += f"; {self.bad_rows} malformed rows left out, first: {self.examples[0]}"
        return text


def import_archive(archive: Path, data_dir: Path, pairs: Iterable[str] = ()) -> list[ImportedFile]:
    wanted = {p.upper() for p in pairs}
    try:
        bundle = zipfile.ZipFile(archive)
    except FileNotFoundError:
        raise ConfigError(f"--import: file not found: {archive}") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ConfigError(f"--import: {archive} is not a zip archive ({exc})") from None
    imported = []
    with bundle:
        members = [(info.filename, MEMBER.search(info.filename)) for info in bundle.infolist() if not info.is_dir()]
        chosen = [(name, m) for name, m in members if m and (not wanted or m.group(1).upper() in wanted)]
        if not chosen:
            raise ConfigError(f"--import: {archive} holds no PAIR_MINUTES.csv file"
                              + (f" for {', '.join(sorted(wanted))}" if wanted else ""))
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create {data_dir}: {exc.strerror or exc}") from None
        for name, match in chosen:
            pair, minutes = match.group(1).upper(), int(match.group(2))
            if minutes <= 0:
                continue
            output = data_dir / f"{pair}_{period_label(minutes * 60)}.csv"
            with bundle.open(name) as raw:
                rows, bad, examples = _convert(name, io.TextIOWrapper(raw, encoding="utf-8", errors="replace"),
                                               minutes * 60, output)
            imported.append(ImportedFile(name, pair, minutes, rows, bad, examples, output))
    return imported


def _convert(name: str, lines: Iterable[str], period: int, output: Path) -> tuple[int, int, tuple[str, ...]]:
    staging = output.with_name(f".{output.name}.tmp")
    rows = bad = 0
    examples: list[str] = []
    previous = -1
    with open(staging, "w", encoding="ascii") as out:
        out.write(",".join(CANDLE_HEADER) + "\n")
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line:
                continue
            fields = line.split(",")
            problem = _problem(fields, period, previous)
            if problem is not None:
                bad += 1
                if len(examples) < 5:
                    examples.append(f"{name}:{number}: {problem} ({line[:60]!r})")
                continue
            previous = int(fields[0])
            out.write(",".join(field.strip() for field in fields[:6]) + "\n")
            rows += 1
        out.flush()
        os.fsync(out.fileno())
    if rows:
        os.replace(staging, output)
    else:  # a candle file without candles is one the backtester refuses
        staging.unlink()
    return rows, bad, tuple(examples)


def _problem(fields: list[str], period: int, previous: int) -> str | None:
    if len(fields) != 7:
        return f"expected 7 fields, got {len(fields)}"
    try:
        time_ = int(fields[0])
        o, h, l, c, v = (float(x) for x in fields[1:6])
        trades = int(fields[6])
    except ValueError:
        return "not a number"
    if not all(math.isfinite(x) for x in (o, h, l, c, v)) or min(o, h, l, c) <= 0 or v < 0 or trades < 0:
        return "prices must be positive, volume and trades >= 0"
    if l > min(o, c) or h < max(o, c):
        return "low/high do not bracket open/close"
    if time_ > MILLISECONDS_ABOVE:
        return "time looks like milliseconds (unix seconds expected)"
    if time_ % period:
        return f"time is not on the {period // 60}-minute grid"
    if time_ <= previous:
        return "time is not after the previous row's"
    return None
