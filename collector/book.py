"""One symbol's L2 book as Kraken's v2 ``book`` channel defines it, and its CRC32 checksum.

A side keeps a sorted list of float prices (asks ascending; bids ascending too, best last) and,
per price, the quantity and the level's checksum text (price and quantity digits at the pair's
precisions, formatted once when the level changes). Inserting is ``bisect.insort`` into at most
``depth`` floats; the checksum joins 20 cached strings and CRC32s them: a message costs a few
microseconds, not a re-sort (python-kraken-sdk re-sorts a whole side on every level).

Kraken's rules (KRAKEN.md): apply levels in order (``qty`` 0 deletes), then truncate each side to
the subscribed depth (Kraken sends no delete for a level that falls out), then checksum the top 10
asks (lowest first) then the top 10 bids (highest first), each level as price digits then qty
digits with the '.' removed and leading zeros stripped.
"""

from __future__ import annotations

from bisect import insort
from typing import Iterable
from zlib import crc32

CHECKSUM_LEVELS = 10
ASK, BID = 1, 0


def digits(value: float, places: int) -> str:
    """``value`` at ``places`` decimals, without the point or leading zeros: 0.001 at 8 places is '100000'."""
    return format(value, f".{places}f").replace(".", "").lstrip("0")


class BookSide:
    __slots__ = ("prices", "qty", "text", "ascending_best")

    def __init__(self, ascending_best: bool) -> None:
        self.prices: list[float] = []       # always ascending
        self.qty: dict[float, float] = {}
        self.text: dict[float, str] = {}
        self.ascending_best = ascending_best  # asks: best is prices[0]; bids: best is prices[-1]

    def best(self) -> float | None:
        if not self.prices:
            return None
        return self.prices[0] if self.ascending_best else self.prices[-1]

    def levels(self) -> list[tuple[float, float]]:
        """(price, qty) best first."""
        order = self.prices if self.ascending_best else reversed(self.prices)
        return [(p, self.qty[p]) for p in order]


class OrderBook:
    """Apply, truncate, verify. ``price_places``/``qty_places`` are the pair's AssetPairs precisions."""

    __slots__ = ("depth", "price_places", "qty_places", "asks", "bids", "_pfmt", "_qfmt")

    def __init__(self, depth: int, price_places: int, qty_places: int) -> None:
        self.depth = depth
        self.price_places = price_places
        self.qty_places = qty_places
        self._pfmt = f".{price_places}f"
        self._qfmt = f".{qty_places}f"
        self.asks = BookSide(True)
        self.bids = BookSide(False)

    def clear(self) -> None:
        self.asks = BookSide(True)
        self.bids = BookSide(False)

    def apply(self, side: BookSide, levels: Iterable[dict[str, float]]) -> None:
        """Levels of one side of a message, in order: ``{"price": p, "qty": q}``, q 0 deletes."""
        prices, qtys, texts = side.prices, side.qty, side.text
        pfmt, qfmt = self._pfmt, self._qfmt
        for level in levels:
            price = level["price"]
            qty = level["qty"]
            if qty == 0:
                if price in qtys:
                    del qtys[price]
                    del texts[price]
                    prices.remove(price)
                continue
            if price not in qtys:
                insort(prices, price)
            qtys[price] = qty
            texts[price] = (format(price, pfmt).replace(".", "").lstrip("0")
                            + format(qty, qfmt).replace(".", "").lstrip("0"))

    def truncate(self) -> tuple[list[float], list[float]]:
        """Cut both sides to ``depth``; returns the (ask, bid) prices that fell out (stored as deletes)."""
        depth = self.depth
        out_asks: list[float] = []
        out_bids: list[float] = []
        asks = self.asks
        if len(asks.prices) > depth:
            out_asks = asks.prices[depth:]
            del asks.prices[depth:]
            for p in out_asks:
                del asks.qty[p], asks.text[p]
        bids = self.bids
        if len(bids.prices) > depth:
            cut = len(bids.prices) - depth
            out_bids = bids.prices[:cut]
            del bids.prices[:cut]
            for p in out_bids:
                del bids.qty[p], bids.text[p]
        return out_asks, out_bids

    def checksum(self) -> int:
        asks, bids = self.asks, self.bids
        atext, btext = asks.text, bids.text
        parts = [atext[p] for p in asks.prices[:CHECKSUM_LEVELS]]
        parts += [btext[p] for p in reversed(bids.prices[-CHECKSUM_LEVELS:])]
        return crc32("".join(parts).encode())

    def crossed(self) -> bool:
        """Best bid >= best ask: a book that cannot exist."""
        return bool(self.asks.prices and self.bids.prices and self.bids.prices[-1] >= self.asks.prices[0])
