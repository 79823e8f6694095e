"""What a trading pair allows: decimals, minimums and fees, as the exchange publishes them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from candlebot.errors import ConfigError
from candlebot.money import ZERO, ceil_to, floor_to, round_to, step


@dataclass(frozen=True, slots=True)
class PairInfo:
    """One pair's trading rules.

    ``name`` is the exchange's pair id (``XXBTZUSD``), ``altname`` the short
    form users type (``XBTUSD``). Fee rates are fractions (0.0026 = 0.26%);
    ``taker_tiers`` keeps the full schedule as (30-day volume, rate) rows.
    """

    name: str
    altname: str
    wsname: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int
    ordermin: Decimal
    costmin: Decimal
    tick_size: Decimal
    taker_fee: Decimal
    maker_fee: Decimal
    taker_tiers: tuple[tuple[Decimal, Decimal], ...] = ()
    maker_tiers: tuple[tuple[Decimal, Decimal], ...] = ()

    def __post_init__(self) -> None:
        for field in ("pair_decimals", "lot_decimals", "cost_decimals"):
            places = getattr(self, field)
            if not 0 <= places <= 18:
                raise ConfigError(f"pair {self.altname}: {field} must be within 0..18, got {places}")
        if self.ordermin < ZERO or self.costmin < ZERO or self.tick_size <= ZERO:
            raise ConfigError(f"pair {self.altname}: ordermin/costmin must be >= 0 and tick_size > 0")
        if not ZERO <= self.taker_fee < 1 or not ZERO <= self.maker_fee < 1:
            raise ConfigError(f"pair {self.altname}: fee rates must be fractions within [0, 1)")

    @property
    def lot_step(self) -> Decimal:
        return step(self.lot_decimals)

    def floor_volume(self, volume: Decimal) -> Decimal:
        return floor_to(volume, self.lot_decimals)

    def cost(self, price: Decimal, volume: Decimal) -> Decimal:
        """Notional in quote currency, at the pair's cost decimals."""
        return round_to(price * volume, self.cost_decimals)

    def round_cost(self, notional: Decimal) -> Decimal:
        return round_to(notional, self.cost_decimals)

    def fee(self, cost: Decimal, rate: Decimal) -> Decimal:
        """Fee on a notional, rounded up to the pair's cost decimals."""
        return ceil_to(cost * rate, self.cost_decimals)

    def price_against(self, price: Decimal, side: str) -> Decimal:
        """Round a price to the pair's decimals, away from the trader (up for buys, down for sells)."""
        return ceil_to(price, self.pair_decimals) if side == "buy" else floor_to(price, self.pair_decimals)

    def protect_price(self, price: Decimal, side: str) -> Decimal:
        """A protection (limit) price on the pair's ``tick_size`` (at its decimals), in the safe direction: never
        dearer than ``price`` for a buy (down), never cheaper for a sell (up). Kraken refuses a price off the tick
        (``EOrder:Invalid price``), and the tick can be coarser than 10^-pair_decimals (0.5 at 1 decimal)."""
        rounding = ROUND_FLOOR if side == "buy" else ROUND_CEILING
        on_tick = (price / self.tick_size).to_integral_value(rounding=rounding) * self.tick_size
        return floor_to(on_tick, self.pair_decimals) if side == "buy" else ceil_to(on_tick, self.pair_decimals)

    def below_minimum(self, price: Decimal, volume: Decimal) -> str | None:
        """Why an order of ``volume`` at ``price`` would be refused by the exchange, or None."""
        if volume < self.ordermin:
            return f"volume {volume} below ordermin {self.ordermin} {self.base}"
        if price * volume < self.costmin:
            return f"cost {self.cost(price, volume)} below costmin {self.costmin} {self.quote}"
        return None
