"""Events as Slack messages for people: a mrkdwn section, a context footer and a plain ``text`` fallback.

    :white_check_mark: XBTUSD trade #3 closed: P/L +12.34 USD
    Sold 0.0123 @ 43,000.0 (bought @ 42,000.1) · market move +999.9 (+2.381%) · fees 2.68 USD · held 1d 2h
    `kraken-sma-1` · XBTUSD · sma_cross · live · 2024-01-05 14:00:00 UTC

When alerts come faster than Slack may be sent (a backtest, an outage), the
sink collapses them into one ``summary``: counts per kind, net P/L and fees of
the trades in it, and the latest few headlines.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from candlebot.events import (
    BooksAudited,
    BotError,
    BotStarted,
    BotStopped,
    DustLeft,
    FeedAlert,
    Event,
    Heartbeat,
    OrderFailed,
    PriceRejected,
    TradeClosed,
    TradeOpened,
)
from candlebot.output.lines import utc
from candlebot.money import ZERO
from candlebot.output.sinks.tags import SinkTags

ALERT_TYPES: tuple[type, ...] = (BotStarted, BotStopped, TradeOpened, TradeClosed, OrderFailed, PriceRejected, DustLeft,
                                 BotError, BooksAudited, Heartbeat, FeedAlert)
LATEST_LINES = 5
_RECOVERED = {False: "", True: " (recovered)"}
_SECTION_LIMIT = 2900  # Slack allows 3000 characters in a section's text


@dataclass(frozen=True)
class SlackMessage:
    text: str
    blocks: tuple[dict[str, Any], ...]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": [dict(block) for block in self.blocks]}


@dataclass(frozen=True)
class _Lines:
    """One alert: a headline and detail lines, each in mrkdwn and plain text."""

    headline: str
    plain_headline: str
    details: tuple[str, ...] = ()
    plain_details: tuple[str, ...] = ()


def alert_message(event: Event, tags: SinkTags) -> SlackMessage:
    lines = _describe(event, tags)
    return _message([lines.headline, *lines.details], [lines.plain_headline, *lines.plain_details], tags, event.time)


def one_line(event: Event, tags: SinkTags) -> tuple[str, str]:
    """The headline of an event, mrkdwn and plain, for a summary's "latest" list."""
    lines = _describe(event, tags)
    return lines.headline, lines.plain_headline


@dataclass
class AlertDigest:
    """What a batch of alerts adds up to; the body of a summary message."""

    count: int = 0
    opened: int = 0
    closed: int = 0
    wins: int = 0
    losses: int = 0
    pnl: Decimal = ZERO
    fees: Decimal = ZERO
    failures: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    lifecycle: list[str] = field(default_factory=list)
    first_time: float | None = None
    last_time: float | None = None
    latest: deque[Event] = field(default_factory=lambda: deque(maxlen=LATEST_LINES))

    def add(self, event: Event) -> None:
        self.count += 1
        self.first_time = event.time if self.first_time is None else self.first_time
        self.last_time = event.time
        self.latest.append(event)
        match event:
            case TradeOpened(trade=trade):
                self.opened += 1
                self.fees += trade.open_fill.fee
            case TradeClosed(trade=trade):
                self.closed += 1
                pnl = trade.pnl or ZERO
                self.pnl += pnl
                self.wins += pnl > 0
                self.losses += pnl <= 0
                if trade.close_fill is not None:
                    self.fees += trade.close_fill.fee
            case OrderFailed(error=error):
                self.failures[error] += 1
            case BotError(kind=kind):
                self.errors[kind] += 1
            case PriceRejected(source=source):
                self.errors[f"bad {source} price"] += 1
            case DustLeft():
                self.errors["dust left"] += 1
            case BooksAudited():
                self.errors["audit"] += 1
            case BotStarted():
                self.lifecycle.append("started")
            case BotStopped(reason=reason):
                self.lifecycle.append(f"stopped ({reason})")
            case Heartbeat(consecutive_failures=failures):
                self.errors["exchange unreachable" if failures else "exchange reachable again"] += 1


def summary_message(digest: AlertDigest, tags: SinkTags, *, lost: int = 0) -> SlackMessage:
    since = utc(digest.first_time) + " UTC" if digest.first_time is not None else "now"
    head = f":bell: *{digest.count} alerts since {since}* (collapsed to respect Slack's rate limit)"
    plain_head = f"{digest.count} alerts since {since} (collapsed to respect Slack's rate limit)"
    body: list[str] = []
    q = f" {tags.quote}" if tags.quote else ""
    if digest.opened or digest.closed:
        body.append(
            f"trades: {digest.opened} opened, {digest.closed} closed ({digest.wins} won, {digest.losses} lost), "
            f"net P/L {_signed(digest.pnl)}{q}, fees {_amount(digest.fees)}{q}"
        )
    if digest.failures:
        body.append(f"order failures: {sum(digest.failures.values())} ({_counts(digest.failures)})")
    if digest.errors:
        body.append(f"errors: {sum(digest.errors.values())} ({_counts(digest.errors)})")
    if digest.lifecycle:
        body.append("bot: " + ", ".join(digest.lifecycle[-5:]))
    if lost:
        body.append(f"{lost} earlier alerts could not be delivered")
    latest = [one_line(event, tags) for event in digest.latest]
    mrkdwn = [head, *(_escape(line) for line in body)]
    plain = [plain_head, *body]
    if latest:
        mrkdwn.append("latest:")
        mrkdwn.extend(f"• {line}" for line, _ in latest)
        plain.append("latest:")
        plain.extend(f"- {line}" for _, line in latest)
    return _message(mrkdwn, plain, tags, digest.last_time)


# -- one event ---------------------------------------------------------------------------


def _describe(event: Event, tags: SinkTags) -> _Lines:
    q = f" {tags.quote}" if tags.quote else ""
    match event:
        case TradeOpened(trade=trade, recovered=recovered):
            fill = trade.open_fill
            head = f"{tags.pair} trade #{trade.trade_id} opened{_RECOVERED[recovered]}: bought {_amount(fill.volume)} @ {_amount(fill.price)}"
            detail = f"cost {_amount(fill.cost)}{q} · fee {_amount(fill.fee)}{q} · order {fill.order_id}"
            return _Lines(f":large_blue_circle: *{_escape(head)}*", head, (_escape(detail),), (detail,))
        case TradeClosed(trade=trade, recovered=recovered):
            opened, closed = trade.open_fill, trade.close_fill
            pnl = trade.pnl or ZERO
            head = f"{tags.pair} trade #{trade.trade_id} closed{_RECOVERED[recovered]}: P/L {_signed(pnl)}{q}"
            emoji = ":white_check_mark:" if pnl > 0 else ":small_red_triangle_down:"
            details: list[str] = []
            if closed is not None:
                move = closed.price - opened.price
                pct = f"{float(move / opened.price * 100):+.3f}%" if opened.price else "n/a"
                details.append(
                    f"sold {_amount(closed.volume)} @ {_amount(closed.price)} (bought @ {_amount(opened.price)}) · "
                    f"market move {_signed(move)} ({pct})"
                )
                details.append(
                    f"fees {_amount(trade.fees)}{q} (gross P/L {_signed(trade.gross_pnl or ZERO)}{q}) · "
                    f"held {_duration(closed.time - opened.time)} · orders {opened.order_id} / {closed.order_id}"
                )
            return _Lines(f"{emoji} *{_escape(head)}*", head, tuple(_escape(d) for d in details), tuple(details))
        case OrderFailed(side=side, volume=volume, userref=userref, error=error, message=message):
            head = f"{side.value.capitalize()} order failed ({error})"
            detail = f"{message} · volume {_amount(volume)} · userref {userref}"
            return _Lines(f":warning: *{_escape(head)}*", head, (_escape(detail),), (detail,))
        case PriceRejected(source=source, reason=reason):
            head = f"Bad {source} price: no order sent"
            return _Lines(f":no_entry: *{_escape(head)}*: {_escape(reason)}", f"{head}: {reason}")
        case DustLeft(trade=trade):
            head = f"{tags.pair} trade #{trade.trade_id}: {_amount(trade.volume)} left as dust"
            detail = "below the pair's order minimum: kept in the books, never sent as an order"
            return _Lines(f":grey_question: *{_escape(head)}*", head, (_escape(detail),), (detail,))
        case BotError(kind=kind, message=message):
            head = f"{kind} error"
            return _Lines(f":rotating_light: *{_escape(head)}*: {_escape(message)}", f"{head}: {message}")
        case FeedAlert(text=text):
            return _Lines(_escape(text), text)
        case BooksAudited(problems=problems, held=held, booked_volume=booked, account_volume=account):
            head = (f"Books disagree with the account: {len(problems)} problem(s)" if problems
                    else "Books agree with the account again")
            details = [*problems[:5], f"booked {_amount(booked)}, account {_amount(account)}"]
            if held:
                name = tags.bot.partition('_')[2] or tags.bot
                details.append("no order is sent (closes included) until the account covers the books again: put the "
                               "coins back, or take a trade off the books with candlebot-ledger --name BOT --write-off "
                               f"TRADE_ID; an order mismatch is cleared by a person: candlebot-ledger --name {name} --clear-hold")
            return _Lines(f":rotating_light: *{_escape(head)}*", head, tuple(_escape(d) for d in details), tuple(details))
        case BotStarted(pair=pair, strategy=strategy, mode=mode):
            head = f"Bot started: {pair}, {strategy}, {mode}"
            return _Lines(f":arrow_forward: *{_escape(head)}*", head)
        case BotStopped(reason=reason):
            head = f"Bot stopped: {reason}"
            return _Lines(f":black_square_for_stop: *{_escape(head)}*", head)
        case Heartbeat(consecutive_failures=failures) if failures:
            head = f"Exchange unreachable: {failures} consecutive failed polls"
            return _Lines(f":warning: *{_escape(head)}*", head)
        case Heartbeat():
            head = "Exchange reachable again"
            return _Lines(f":white_check_mark: *{head}*", head)
    head = type(event).__name__
    return _Lines(_escape(head), head)


def _message(mrkdwn: list[str], plain: list[str], tags: SinkTags, time: float | None) -> SlackMessage:
    footer = f"{tags.bot} · {tags.pair or 'every pair'} · {tags.strategy} · {tags.mode}"
    if time is not None:
        footer += f" · {utc(time)} UTC"
    section = _clip("\n".join(mrkdwn))
    blocks = (
        {"type": "section", "text": {"type": "mrkdwn", "text": section}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _escape(footer)}]},
    )
    text = _clip("\n".join(plain) + "\n" + footer)
    return SlackMessage(text=text, blocks=blocks)


def _amount(value: Decimal) -> str:
    return f"{value:,}"


def _signed(value: Decimal) -> str:
    return f"{value:+,}"


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} ×{count}" for name, count in counter.most_common(5))


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d"] if days else []
    if hours or days:
        parts.append(f"{hours}h")
    if not days:
        parts.append(f"{minutes}m")
    return " ".join(parts)


def _escape(text: str) -> str:
    """Slack mrkdwn control characters (``&``, ``<``, ``>``) as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str) -> str:
    return text if len(text) <= _SECTION_LIMIT else text[: _SECTION_LIMIT - 1] + "…"
