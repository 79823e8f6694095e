"""The pair's integer units (ticks, lots) and Kraken's decimal strings.

The market works in integers; amounts leave the simulator as strings with
the decimals Kraken uses: prices at ``pair_decimals`` (OHLC, orders), market
prices at 5 decimals or more (Ticker, Depth, Trades, as Kraken prints them),
volumes at ``lot_decimals``, cost and fee at ``cost_decimals``.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from candlebot.money import step
from candlebot.pair import PairInfo


def fixed(value: Decimal, places: int) -> str:
    """``value`` with exactly ``places`` decimals, never in exponent form."""
    return f"{value.quantize(step(places), rounding=ROUND_HALF_EVEN):f}"


class Units:
    __slots__ = ("pair", "tick", "market_places")

    def __init__(self, pair: PairInfo) -> None:
        self.pair = pair
        self.tick = pair.tick_size
        self.market_places = max(pair.pair_decimals, 5)

    def price(self, ticks: int) -> Decimal:
        return (self.tick * ticks).quantize(step(self.pair.pair_decimals), rounding=ROUND_HALF_EVEN)

    def price_str(self, ticks: int) -> str:
        """An OHLC/order price, at ``pair_decimals``."""
        return fixed(self.tick * ticks, self.pair.pair_decimals)

    def market_str(self, ticks: int) -> str:
        return fixed(self.tick * ticks, self.market_places)

    def volume(self, lots: int) -> Decimal:
        return Decimal(lots).scaleb(-self.pair.lot_decimals)

    def volume_str(self, lots: int) -> str:
        return fixed(self.volume(lots), self.pair.lot_decimals)

    def lots(self, volume: Decimal) -> int:
        """Whole lots in ``volume``, rounded down (Kraken truncates volume to lot_decimals)."""
        return int(volume.scaleb(self.pair.lot_decimals).to_integral_value(rounding=ROUND_FLOOR))

    def ticks(self, price: Decimal) -> int | None:
        """``price`` in ticks, or None when it is not a whole number of ticks."""
        ratio = price / self.tick
        return int(ratio) if ratio == ratio.to_integral_value() else None

    def cost_str(self, amount: Decimal) -> str:
        return fixed(amount, self.pair.cost_decimals)
