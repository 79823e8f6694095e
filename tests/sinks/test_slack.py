"""Slack alerts through slack_sdk to a local HTTP server: content, rate limit, failures that never touch trading."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from decimal import Decimal

from candlebot.events import BooksAudited, BotError, BotStarted, BotStopped, Heartbeat, OrderFailed, TradeClosed, TradeOpened
from candlebot.venue import Side
from candlebot.output.sinks.queued import QueuedSink
from candlebot.output.sinks.secret import Secret
from candlebot.output.sinks.slack import SlackSink
from candlebot.output.sinks.slack_post import WebApiPoster, WebhookPoster, retry_after_s
from candlebot.output.sinks.tags import SinkTags
from tests.sinks.events import T0, closed_trade, opened_trade
from tests.sinks.servers import Run, SlackBehaviour, SlackServer, closed_port, demo_args, run_backtest

TOKEN = "xoxb-0000000000-1111111111-FAKEfakeFAKEfake"
WEBHOOK_PATH = "T00000000/B00000000/XXXXwebhooksecretXXXX"
TAGS = SinkTags("kraken-sma-1", "XBTUSD", "sma_cross", "live", quote="USD")


@pytest.fixture
def slack():
    server = SlackServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Run:
    run = run_backtest(demo_args(), tmp_path_factory.mktemp("baseline"))
    assert run.returncode == 0 and run.trades_csv.count("\n") > 10
    return run


def alerts_covered(texts: list[str]) -> int:
    """How many events the messages stand for: a summary says "N alerts since", anything else is one."""
    total = 0
    for text in texts:
        match = re.match(r"(\d+) alerts since", text)
        total += int(match.group(1)) if match else 1
    return total


def web_api_run(server: SlackServer, tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> Run:
    args = demo_args("--slack-channel", "#alerts", "--slack-base-url", server.base_url, *extra)
    return run_backtest(args, tmp_path, env={"SLACK_BOT_TOKEN": TOKEN, **(env or {})})


def webhook_run(url: str, tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> Run:
    return run_backtest(demo_args("--slack", *extra), tmp_path, env={"SLACK_WEBHOOK_URL": url, **(env or {})})


# -- a backtest's alerts -------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.slow
def test_web_api_alerts_cover_every_trade(slack: SlackServer, tmp_path: Path, baseline: Run) -> None:
    run = web_api_run(slack, tmp_path)
    assert run.returncode == 0, run.stderr
    assert slack.requests, "no request reached the server"
    summary = run.summary()
    for request in slack.requests:
        assert request.path == "/api/chat.postMessage"
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        body = request.json()
        assert body["channel"] == "#alerts"
        assert body["text"] and [block["type"] for block in body["blocks"]] == ["section", "context"]
    texts = [request.text() for request in slack.requests]
    assert alerts_covered(texts) == summary["trades"] + summary["trades"] - summary["open_trades"]
    assert f"{summary['trades']} opened" in "\n".join(texts) or len(texts) > 1
    assert run.summary() == baseline.summary() and run.trades_csv == baseline.trades_csv


@pytest.mark.integration
@pytest.mark.slow
def test_webhook_alerts(slack: SlackServer, tmp_path: Path) -> None:
    run = webhook_run(slack.webhook_url(WEBHOOK_PATH), tmp_path)
    assert run.returncode == 0, run.stderr
    assert slack.requests
    assert {request.path for request in slack.requests} == {f"/services/{WEBHOOK_PATH}"}
    assert all("Authorization" not in request.headers for request in slack.requests)
    body = slack.requests[0].json()
    assert "net P/L -1,640.56158" in body["text"] and body["blocks"][0]["text"]["type"] == "mrkdwn"


@pytest.mark.integration
@pytest.mark.slow
def test_slack_is_off_in_backtests_unless_asked(slack: SlackServer, tmp_path: Path) -> None:
    run = run_backtest(demo_args(), tmp_path, env={"SLACK_WEBHOOK_URL": slack.webhook_url(WEBHOOK_PATH), "SLACK_BOT_TOKEN": TOKEN})
    assert run.returncode == 0  # it has exited: the server recorded any request it made before answering it
    assert slack.requests == []


# -- a broken Slack never touches trading -------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    ("mode", "transport"),
    [("500", "web"), ("500", "webhook"), ("429", "web"), ("429", "webhook"), ("sleep", "web"), ("sleep", "webhook"),
     ("dead", "web"), ("dead", "webhook")],
)
@pytest.mark.slow
def test_a_failing_slack_changes_no_trade_and_does_not_hang(mode: str, transport: str, tmp_path: Path, baseline: Run) -> None:
    # Arrange
    server = SlackServer(SlackBehaviour(mode=mode if mode != "dead" else "ok"))
    if mode == "dead":
        server.close()
        port = closed_port()
        base_url, hook = f"http://127.0.0.1:{port}/api/", f"http://127.0.0.1:{port}/services/{WEBHOOK_PATH}"
    else:
        base_url, hook = server.base_url, server.webhook_url(WEBHOOK_PATH)
    # Act
    if transport == "web":
        run = run_backtest(demo_args("--slack-channel", "#alerts", "--slack-base-url", base_url), tmp_path,
                           env={"SLACK_BOT_TOKEN": TOKEN})
    else:
        run = webhook_run(hook, tmp_path)
    if mode != "dead":
        server.close()
    # Assert
    assert run.returncode == 0, run.stderr
    assert run.summary() == baseline.summary()
    assert run.trades_csv == baseline.trades_csv
    # not hung: it ended before a sleeping Slack would have answered (a loaded machine's slow start is no hang)
    assert run.elapsed_s < SlackBehaviour().sleep_s, f"the run took {run.elapsed_s:.1f} s"
    requests = server.requests
    if mode == "500":
        assert 1 <= len(requests) <= 3  # bounded retries
        assert "slack: giving up on 25 alert(s)" in run.stderr and "HTTP 500" in run.stderr
    elif mode == "429":
        assert len(requests) == 2
        assert requests[1].time - requests[0].time >= 0.95  # Retry-After: 1 honoured
        assert alerts_covered([requests[1].text()]) == 25  # nothing lost
        assert "giving up" not in run.stderr
    elif mode == "sleep":
        assert len(requests) == 1
        assert "slack sink: still busy at exit" in run.stderr
    else:
        assert "slack: giving up on 25 alert(s)" in run.stderr


# -- message content, rate limit, collapse (in process, real slack_sdk clients) -----------------


@pytest.mark.integration
def test_each_kind_of_alert_reads_well(slack: SlackServer) -> None:
    sink = SlackSink(WebhookPoster(Secret(slack.webhook_url(WEBHOOK_PATH))), TAGS, rate=100, burst=10)
    events = [
        BotStarted(T0, "kraken-sma-1", "XBTUSD", "sma_cross", "live"),
        TradeOpened(T0 + 60, opened_trade(), 0.2),
        TradeClosed(T0 + 93_600, closed_trade(), 0.3),
        OrderFailed(T0 + 93_700, Side.BUY, closed_trade().volume, 7, "OrderRejected", "EOrder:Insufficient funds <x>"),
        BotError(T0 + 93_800, "exchange", "EService:Unavailable"),
        BotStopped(T0 + 93_900, "SIGTERM"),
    ]
    for sent, event in enumerate(events, 1):
        sink.deliver([event])
        assert sink.sent == sent  # burst 10: each goes out at once, in deliver
    texts = [request.text() for request in slack.requests]
    assert len(texts) == 6
    assert texts[0].startswith("Bot started: XBTUSD, sma_cross, live")
    assert texts[1].startswith("XBTUSD trade #3 opened: bought 0.0123 @ 42,000.1\ncost 516.60123 USD · fee 1.34316 USD · order OBUY01")
    pnl = closed_trade().pnl
    assert texts[2].startswith(f"XBTUSD trade #3 closed: P/L +{pnl} USD\n")
    assert "sold 0.0123 @ 43,000.0 (bought @ 42,000.1) · market move +999.9 (+2.381%)" in texts[2]
    assert "held 1d 2h" in texts[2] and "gross P/L +12.29877 USD" in texts[2]
    assert texts[3].startswith("Buy order failed (OrderRejected)\nEOrder:Insufficient funds <x> · volume 0.0123 · userref 7")
    assert texts[4].startswith("exchange error: EService:Unavailable")
    assert texts[5].startswith("Bot stopped: SIGTERM")
    assert all(text.endswith(" UTC") and "kraken-sma-1 · XBTUSD · sma_cross · live" in text for text in texts)
    failed_block = slack.requests[3].json()["blocks"][0]["text"]["text"]
    assert "&lt;x&gt;" in failed_block and ":warning:" in failed_block  # mrkdwn escaped, plain text not
    assert "*XBTUSD trade #3 closed" in slack.requests[2].json()["blocks"][0]["text"]["text"]


@pytest.mark.integration
@pytest.mark.slow
def test_a_flood_is_rate_limited_and_collapsed(slack: SlackServer) -> None:
    # Arrange: 1 message/s, burst 3, behind the real queue
    sink = SlackSink(WebApiPoster(Secret(TOKEN), "#alerts", base_url=slack.base_url), TAGS, rate=1.0, burst=3)
    queued = QueuedSink(sink, tick_s=0.05)
    # Act: 40 alerts, one every 25 ms (a crash loop, a backtest)
    started = time.monotonic()
    for i in range(40):
        queued(BotError(T0 + i, "exchange", f"outage {i}"))
        time.sleep(0.025)  # the scenario's pace: alerts spread over time, so the rate limit is what is measured
    assert queued.close(timeout=5)
    elapsed = time.monotonic() - started
    # Assert
    texts = [request.text() for request in slack.requests]
    assert alerts_covered(texts) == 40  # every alert is in some message
    assert len(texts) <= 3 + elapsed * 1.0 + 1  # burst + rate * time (+ the final flush)
    assert any(re.match(r"\d+ alerts since", text) for text in texts)
    assert any("errors: " in text and "exchange ×" in text for text in texts)  # a summary counts them by kind
    gaps = [b.time - a.time for a, b in zip(slack.requests[3:], slack.requests[4:], strict=False)]
    assert all(gap >= 0.9 for gap in gaps[:-1])  # after the burst: one per second (the exit flush may come sooner)


@pytest.mark.integration
def test_heartbeats_alert_on_outage_and_recovery_only(slack: SlackServer) -> None:
    sink = SlackSink(WebhookPoster(Secret(slack.webhook_url(WEBHOOK_PATH))), TAGS, rate=100, burst=5, unreachable_after=3)
    for failures in [0, 1, 2, 3, 4, 5, 2, 0, 0, 1]:
        sink.deliver([Heartbeat(T0 + failures, failures)])
    texts = [request.text() for request in slack.requests]  # deliver() posts synchronously: all are recorded
    assert len(texts) == 2
    assert texts[0].startswith("Exchange unreachable: 3 consecutive failed polls")
    assert texts[1].startswith("Exchange reachable again")


@pytest.mark.integration
def test_audits_alert_once_when_a_hold_comes_and_once_when_it_goes_and_recovered_fills_say_so(slack: SlackServer) -> None:
    sink = SlackSink(WebhookPoster(Secret(slack.webhook_url(WEBHOOK_PATH))), TAGS, rate=100, burst=10)
    problem = "the books hold 0.0123 XXBT, the account only 0.0100"
    sink.deliver([BooksAudited(T0, Decimal("0.0123"), Decimal("0.0123"), (), False, changed=False)])  # agreeing: quiet
    sink.deliver([BooksAudited(T0 + 600, Decimal("0.0123"), Decimal("0.0100"), (problem,), True, changed=True)])
    sink.deliver([BooksAudited(T0 + 1200, Decimal("0.0123"), Decimal("0.0100"), (problem,), True, changed=False)])  # said
    sink.deliver([BooksAudited(T0 + 1800, Decimal("0.0123"), Decimal("0.0123"), (), False, changed=True)])  # lifted
    sink.deliver([TradeOpened(T0 + 1900, opened_trade(), None, recovered=True)])
    assert len(slack.requests) == 3  # deliver() posts synchronously
    texts = [request.text() for request in slack.requests]
    assert texts[0].startswith(f"Books disagree with the account: 1 problem(s)\n{problem}\nbooked 0.0123, account 0.0100\n"
                               "no order is sent (closes included) until the account covers the books again: put the "
                               "coins back, or take a trade off the books with candlebot-ledger --name BOT --write-off "
                               "TRADE_ID; an order mismatch is cleared by a person: candlebot-ledger --name kraken-sma-1 "
                               "--clear-hold")
    assert texts[1].startswith("Books agree with the account again")
    assert texts[2].startswith("XBTUSD trade #3 opened (recovered): bought 0.0123")


def test_retry_after_is_read_from_seconds_or_a_date() -> None:
    assert retry_after_s({"Retry-After": "7"}) == 7.0
    assert retry_after_s({"retry-after": ["2"]}) == 2.0
    assert retry_after_s({}) == 30.0
    assert retry_after_s({"Retry-After": "soon"}) == 30.0
    assert retry_after_s({"Retry-After": "99999"}) == 3600.0
    assert 0 <= retry_after_s({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) <= 1  # in the past: now
