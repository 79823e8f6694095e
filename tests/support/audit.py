"""The audit of a live bot built in the test's process (``build_bot``), driven as the bot's poll loop drives it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from candlebot.assembly import BotProcess


def audit_now(bot: BotProcess, timeout: float = 30.0) -> int:
    """What two polls of the bot do for its audit, with its account read in between: start the audit due (the
    start-up one at first: no order goes before it has compared), wait for its read on the worker thread (the bot's
    loop never waits; a test does, for as long as a loaded machine needs), compare. Returns the audits compared."""
    auditor = bot.runtime.auditor
    assert auditor is not None, "a live bot has an auditor"
    auditor.poll()
    auditor.join(timeout)
    auditor.poll()
    return auditor.audits
