"""What a fleet-wide audit reads of the other bots on its key (real state files, read-only) and the key's hold board."""

from __future__ import annotations

from decimal import Decimal as D

from candlebot.identity import BotIdentity
from candlebot.live.accountread import AccountRead
from candlebot.live.fleet import FleetBooks, FleetHold, HoldBoard
from candlebot.venue import OrderRequest, Side
from tests.unit.desk import XBTUSD, Desk


def _bot(tmp_path, name: str, account: str) -> Desk:
    desk = Desk(tmp_path / name, "10000", max_open=3)
    desk.store.claim(name=name, bot_id=BotIdentity.from_name(name).bot_id, account=account)
    desk.store.bind(pair=XBTUSD.name, start_cash=D("10000"), base=XBTUSD.base)
    bots = tmp_path / "bots"
    bots.mkdir(exist_ok=True)
    (bots / f"{name}.sqlite").symlink_to(tmp_path / name / "bot.sqlite")
    return desk


def test_the_other_bots_on_the_key_need_their_open_volume_less_the_sells_they_may_have_sent(tmp_path):
    alpha, beta, other_key, paper = (_bot(tmp_path, n, a) for n, a in (
        ("alpha", "kraken:k1"), ("beta", "kraken:k1"), ("gamma", "kraken:k2"), ("papy", "paper")))
    alpha.trader.buy(D("0.01"))
    first, second = beta.trader.buy(D("0.02")), beta.trader.buy(D("0.03"))
    other_key.trader.buy(D("0.5"))
    paper.trader.buy(D("0.7"))
    fleet = FleetBooks(tmp_path / "bots", "kraken:k1", tmp_path / "bots" / "alpha.sqlite")

    before = fleet.seen()  # the books every account read of the key is framed by (other keys' and paper bots' left out)
    assert list(before) == ["alpha.sqlite", "beta.sqlite"] and before["beta.sqlite"].claim.held == D("0.05")

    beta.store.intent(OrderRequest(XBTUSD.name, Side.SELL, second.volume, 99), second.trade_id)  # sent, not booked
    after = fleet.seen()
    assert after["beta.sqlite"].claim.required == D("0.02")
    read = AccountRead(0.0, 0.0, 0.0, True, {}, {}, before, after)
    assert read.others("alpha.sqlite", XBTUSD.base) == (D("0.02"), (after["beta.sqlite"].claim,))  # the smaller need
    assert read.others("alpha.sqlite", "XETH") == (D(0), ())

    beta.store.write_off(first.trade_id)  # its coins left the account: off the books
    assert fleet.seen()["beta.sqlite"].claim.held == D("0.03")


def test_a_shortage_hold_is_lifted_only_by_a_later_read_of_the_account(tmp_path):
    board, other = HoldBoard(tmp_path, "k1"), HoldBoard(tmp_path, "k2")
    assert board.holds() == []
    board.set(FleetHold("XXBT", "the books hold 2, the account only 1", 100.0))
    assert [h.reason for h in board.holds()] == ["the books hold 2, the account only 1"] and other.holds() == []
    assert board.lift("XXBT", 99.0) is None and board.holds()  # a read from before the shortage proves nothing
    assert board.lift("XXBT", 101.0).asset == "XXBT" and board.holds() == []

    (tmp_path / "fleet" / "k1-XETH.hold").write_text("{not json")
    assert [(h.asset, h.reason.startswith("unreadable")) for h in board.holds()] == [("XETH", True)]  # still a hold
