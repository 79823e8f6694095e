"""A candle file named like one pair's candles, traded as another, says so in one warning line (the new-user trial:
``--data xbtusd_1h_….csv -c ETHUSD`` traded BTC prices with ETHUSD's tick, fee and minimum without a word)."""

from __future__ import annotations

import contextlib
import io

import pytest

from candlebot.cli import main


def backtest(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--data", *argv, "--strategy", "sma_cross", "--no-cache"])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name, flags, named, traded", [
    ("xbtusd_1h_2023q1.csv", ("-c", "ETHUSD"), "XBTUSD", "ETHUSD"),
    ("xbtusdc_1h_2023q1.csv", (), "XBTUSDC", "XBTUSD"),  # -c left at its default
])
def test_a_file_named_like_another_pair_warns_once(shared_data, name, flags, named, traded):
    code, out, err = backtest(str(shared_data / "kraken" / name), *flags)

    assert code == 0 and f"market  {traded}," in out
    assert err.splitlines() == [f"warning: {name} is named like {named} candles, but they are traded as {traded} (its "
                                f"tick, fee and order minimum): pass -c {named} if they are {named}'s"]


@pytest.mark.parametrize("name, flags", [("xbtusd_1h_2023q1.csv", ()), ("xbtusdc_1h_2023q1.csv", ("-c", "XBTUSDC"))])
def test_a_file_traded_as_the_pair_it_is_named_for_is_silent(shared_data, name, flags):
    code, _, err = backtest(str(shared_data / "kraken" / name), *flags)

    assert (code, err) == (0, "")
