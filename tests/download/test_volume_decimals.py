"""A downloaded candle's volume is the exact decimal sum of its trades: the decimals are those that write every trade
exactly, however small a trade is (review: an absolute 1e-6 tolerance took 5e-7 BTC of dust for an integer, so a
one-trade candle of dust was written with volume 0 and counted as a period without trades)."""

from __future__ import annotations

import numpy as np
import pytest

from candlebot.data.download.candles import volume_decimals


@pytest.mark.parametrize("volumes, decimals", [
    ([1.0000005, 2.0, 3.0], 7),      # dust beside round lots
    ([0.0000005], 7),                # a candle of dust alone
    ([0.12000001, 0.25], 8),         # Kraken's 8 decimals beside 2-decimal lots
    ([0.53877114, 0.29, 0.1], 8),    # float noise of ordinary volumes is not a decimal
    ([0.0, 1.5], 1),
])
def test_the_decimals_write_every_trade_exactly(volumes, decimals):
    assert volume_decimals(np.array(volumes)) == decimals
