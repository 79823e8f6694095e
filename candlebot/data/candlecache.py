"""A validated binary cache of candle files: one memory-mapped ``.npy`` per column.

Parsing a million-row gzip CSV takes about a second; mapping six ``.npy``
files takes milliseconds. The first load of a file parses and validates it as
usual (``candlefile.load_candles``) and then writes its columns to
``<cache dir>/<file name>-<path hash>.<key>/``. The cache dir is the user's
(``$XDG_CACHE_HOME/candlebot``, else ``~/.cache/candlebot``; ``$CANDLEBOT_CACHE_DIR``
or ``--cache-dir`` override it), never the data file's folder: that one may be
shared between users or read-only. ``key`` is a hash of the source's size, mtime and
the content of its first and last 64 KiB, so that a changed, replaced or
touched file misses the cache and is parsed again (its stale entry is then
removed). A backtest caches the candles it runs on, the bot's convention applied
(gaps filled, prices on the tick: ``load_prepared``), beside it as
``<entry>.<variant>``, so that a later run does no load-time work at all. An entry is written to a temporary directory and renamed into
place, so a reader never sees half an entry; its manifest is checked against
the arrays before they are used. A directory that cannot be written (a
read-only cache folder) just means no cache: the load never fails because of it.
A directory without any write bit counts as read-only even for root.
With ``write_behind`` (a backtest process) a prepared entry, whose columns nobody changes any more, is written
on a thread of its own while the run goes on:
the first run's result does not wait for ~50 MB of columns to reach the disk (numpy writes them without the GIL),
and the interpreter waits for the thread before it exits, so the entry is complete or absent, never half there.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from candlebot.data.candlefile import CandleColumns, load_candles, open_data_file
from candlebot.errors import DataFileError

log = logging.getLogger(__name__)

FORMAT = 1
_SAMPLE = 64 << 10  # bytes hashed at each end of the source
_COLUMNS = (("times", np.int64), ("opens", np.float64), ("highs", np.float64), ("lows", np.float64),
            ("closes", np.float64), ("volumes", np.float64))


def default_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """``$CANDLEBOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/candlebot`` (an absolute one, as the XDG spec says), else
    ``~/.cache/candlebot``."""
    if environ.get("CANDLEBOT_CACHE_DIR"):
        return Path(environ["CANDLEBOT_CACHE_DIR"])
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "candlebot"
    return Path.home() / ".cache" / "candlebot"


@dataclass(frozen=True)
class CandleCache:
    """Where cache entries go: ``directory`` (default: the user's cache directory, ``default_cache_dir``)."""

    directory: Path = field(default_factory=default_cache_dir)
    write_behind: bool = False  # write prepared entries on a (non-daemon) thread: the caller goes on meanwhile
    writers: list[threading.Thread] = field(default_factory=list, compare=False, repr=False)  # the threads started

    def load(self, source: str | Path) -> CandleColumns:
        """The candles of ``source``: from the cache when it holds this exact file, else parsed (and cached)."""
        source = Path(source)
        key = source_key(source)
        entry = self.entry(source, key)
        cached = _read_entry(entry, key)
        if cached is not None:
            return cached
        candles = load_candles(source)
        if entry.exists():  # there but unusable (damaged, or an older format): replace it
            shutil.rmtree(entry, ignore_errors=True)
        self._write(source, entry, key, candles)  # never behind: a caller may round these columns in place next
        return candles

    def load_prepared(self, source: str | Path, variant: str,
                      prepare: Callable[[CandleColumns], tuple[CandleColumns, dict[str, int]] | None],
                      ) -> tuple[CandleColumns, dict[str, int]] | None:
        """The candles of ``source`` after ``prepare`` (which also says what it changed, as whole numbers), from the
        cache when it holds them for this exact file and ``variant`` (what ``prepare`` depends on), else prepared
        from the raw candles and cached. None when ``prepare`` says these candles cannot be prepared alone."""
        source = Path(source)
        key = source_key(source)
        entry = self.entry(source, key)
        variant_entry = entry.with_name(f"{entry.name}.{hashlib.blake2b(variant.encode(), digest_size=6).hexdigest()}")
        cached = _read_entry(variant_entry, key, with_facts=True)
        if cached is not None:
            return cached
        raw = _read_entry(entry, key)
        prepared = prepare(raw if raw is not None else load_candles(source))
        if prepared is None:
            return None
        if variant_entry.exists():
            shutil.rmtree(variant_entry, ignore_errors=True)
        self._store(source, variant_entry, key, prepared[0], prepared[1])
        return prepared

    def entry(self, source: Path, key: str) -> Path:
        where = hashlib.blake2b(str(source.resolve()).encode(), digest_size=6).hexdigest()
        return self.directory / f"{source.name}-{where}.{key}"

    def _store(self, source: Path, entry: Path, key: str, candles: CandleColumns,
               facts: dict[str, int] | None = None) -> None:
        """``_write`` now, or behind on a thread: only for columns that are final (what ``prepare`` returned)."""
        if not self.write_behind:
            self._write(source, entry, key, candles, facts)
            return
        writer = threading.Thread(target=self._write, args=(source, entry, key, candles, facts),
                                  name="candle-cache-writer", daemon=False)
        self.writers.append(writer)
        writer.start()

    def _write(self, source: Path, entry: Path, key: str, candles: CandleColumns,
               facts: dict[str, int] | None = None) -> None:
        """Best effort: any OSError (read-only, full disk, a file in the way) leaves the cache unwritten."""
        if _read_only(self.directory):
            log.debug("no candle cache for %s: its directory is read-only", source)
            return
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
        except OSError as exc:
            log.debug("no candle cache for %s: %s", source, exc)
            return
        try:
            for name, dtype in _COLUMNS:
                np.save(staging / f"{name}.npy", np.ascontiguousarray(getattr(candles, name), dtype=dtype))
            manifest = {"format": FORMAT, "key": key, "rows": len(candles), "source": str(source)}
            if facts is not None:
                manifest["facts"] = facts
            (staging / "manifest.json").write_text(json.dumps(manifest))
            os.rename(staging, entry)
        except OSError as exc:  # includes another process having renamed its copy in first
            log.debug("candle cache for %s not written: %s", source, exc)
            shutil.rmtree(staging, ignore_errors=True)
            return
        prefix = entry.name[: entry.name.index(key)]  # <file name>-<path hash>.
        for stale in entry.parent.glob(f"{glob.escape(prefix)}*"):
            if not stale.name.startswith(prefix + key) and len(stale.name) >= len(prefix) + len(key) and stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)  # an entry (or a variant) of an older version of the file


def _read_only(directory: Path) -> bool:
    """A directory without any write permission bit is read-only by intent, even to root (who may write anyway)."""
    try:
        return not (stat.S_IMODE(directory.stat().st_mode) & 0o222)
    except OSError:
        return False  # not there yet: mkdir decides


def source_key(source: Path) -> str:
    """Size, mtime and the first and last 64 KiB of the file, hashed."""
    with open_data_file(source) as handle:
        try:
            info = os.fstat(handle.fileno())
            head = handle.read(_SAMPLE)
            handle.seek(max(0, info.st_size - _SAMPLE))
            tail = handle.read(_SAMPLE)
        except OSError as exc:
            raise DataFileError(f"cannot read data file {source}: {exc.strerror or exc}") from None
    digest = hashlib.blake2b(digest_size=10)
    digest.update(f"{FORMAT}:{info.st_size}:{info.st_mtime_ns}:".encode())
    digest.update(head)
    digest.update(tail)
    return digest.hexdigest()


def _read_entry(entry: Path, key: str, with_facts: bool = False):  # type: ignore[no-untyped-def]
    """The entry's columns (memory-mapped, read-only), or None when it is missing or does not check out;
    ``with_facts``: (columns, the facts its manifest records) instead."""
    try:
        manifest = json.loads((entry / "manifest.json").read_text())
        if manifest.get("format") != FORMAT or manifest.get("key") != key:
            return None
        rows = manifest["rows"]
        facts = manifest["facts"] if with_facts else None
        if with_facts and not (isinstance(facts, dict) and all(isinstance(v, int) for v in facts.values())):
            return None
        columns = [np.load(entry / f"{name}.npy", mmap_mode="r") for name, _ in _COLUMNS]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if rows < 1 or any(c.shape != (rows,) or c.dtype != dtype for c, (_, dtype) in zip(columns, _COLUMNS)):
        return None
    return (CandleColumns(*columns), facts) if with_facts else CandleColumns(*columns)
