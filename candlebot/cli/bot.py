"""``candlebot -x kraken -p MIN -t SEC -c PAIR --strategy NAME [--paper|--validate|--live]``: a running bot.

Flags become ``BotSettings``; ``candlebot.assembly.build_bot`` wires the bot (the
same engine, trader and ledger a backtest uses, with the mode's exchange);
``candlebot.live.process.BotRunner`` runs it as a process (start-up on a thread a
signal can cut short, the stop budget); errors become the exit code here. Start-up is recovery: the bot's database is
reloaded and every order whose outcome was never recorded is looked up before
the strategy may trade again.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from pathlib import Path

from candlebot.assembly import BotProcess, BotSettings, SinkStarter, build_bot, crash_record
from candlebot.cli.bot_flags import check_bot_flags
from candlebot.cli.stopping import BUG_EXIT, stopped
from candlebot.cli.args import check_seconds
from candlebot.cli.sinks import build_sinks
from candlebot.clock import Clock
from candlebot.errors import BooksInvariantError, ConfigError, FatalExchangeError, StateWriteError
from candlebot.events import BotError, EventBus
from candlebot.live.paths import default_state_dir
from candlebot.live.process import BotRunner
from candlebot.cli.folders import writable_folder

def run(args: argparse.Namespace, prog: str = "candlebot") -> int:
    """Entry point for a running bot; returns the process exit code. ``BotRunner`` runs the process (signals,
    ``--stop-after``, the stop budget); here flags become settings and errors become the exit code (its line names
    ``prog``, the command as typed)."""
    check_seconds(args.stop_after, "--stop-after", maximum=10 * 365 * 86_400)
    runner = BotRunner(stop_after=args.stop_after)
    runner.install_signal_handlers()
    valid: list[BotSettings] = []  # the flags were right: a refusal to start is then alerted

    def build(clock: Clock, stop: threading.Event) -> BotProcess:
        settings = settings_from_args(args)
        valid.append(settings)
        return build_bot(settings, clock, stop, sink_starter(args))

    def failed_start(error: BaseException, was_stopped: bool) -> int:
        if was_stopped and isinstance(error, ConfigError):
            # the start gave up on the stop (it was retrying an unreachable exchange): nothing to undo; the same line
            # the runner logs when the stop finds the start still inside its call
            logging.getLogger("candlebot").info("stopped while starting")
            return 0
        if not isinstance(error, Exception):
            raise error
        if valid and isinstance(error, (ConfigError, StateWriteError, BooksInvariantError, FatalExchangeError)):
            alert_refusal(args, valid[0], error)
        if isinstance(error, StateWriteError):
            raise ConfigError(str(error)) from None
        return stopped(error, logging.getLogger("candlebot"), prog=prog)

    def failed(error: BaseException, log: logging.Logger) -> int:
        if not isinstance(error, Exception):
            raise error
        return stopped(error, log, prog=prog)  # crash-only: one line, non-zero exit; supervisor restarts, start-up recovers

    code = runner.run(build, lambda bot: bot.runtime.run(), failed_start, failed)  # type: ignore[attr-defined]
    if valid and code != BUG_EXIT:  # ended by design: not a crash (a crash leaves its mark for the next start)
        crash_record(valid[0], time.monotonic).clean_exit()
    return code


def settings_from_args(args: argparse.Namespace) -> BotSettings:
    """The bot's flags, checked before Kraken is first called (one line and exit 2 for a mistake): the checks
    ``candlebot fleet`` makes too (``check_bot_flags``), then the state folder, created when missing."""
    flags = check_bot_flags(args)
    state_dir = writable_folder(Path(args.state_dir) if args.state_dir else default_state_dir(), "--state-dir")
    return BotSettings(
        pair=args.pair, period=flags.period, poll_s=args.poll, strategy=flags.strategy, params=flags.params,
        identity=flags.identity, venue=flags.venue, state_dir=state_dir, mode=args.mode or "paper",
        log_dir=Path(args.log_dir) if args.log_dir else Path("logs"), quiet=args.quiet or _supervised(), key_file=args.key_file,
        fee=flags.fee, fee_text=args.fee, cash=flags.cash, stake=flags.stake, max_slippage=flags.max_slippage,
        max_deviation=flags.max_deviation, reconcile_window=args.reconcile_window, audit_interval=args.audit_interval,
        crash_limit=args.crash_limit, crash_window_s=args.crash_window,
    )


def _supervised() -> bool:
    """Under supervisord (which sets SUPERVISOR_ENABLED) the console is a log file of its own: the bot's lines go to its
    log file only, and the console keeps what only it can catch (a crash's traceback), so each line is in one file."""
    return bool(os.environ.get("SUPERVISOR_ENABLED"))


def alert_refusal(args: argparse.Namespace, settings: BotSettings, error: Exception) -> None:
    """A bot that refuses to start exits 2 and is not restarted (supervisor's ``exitcodes``): say so once on the
    bot's alert channels (Slack, StatsD), since nobody watches a console log. Never raises."""
    from candlebot.output.sinks.tags import SinkTags

    bus = EventBus()
    try:
        tags = SinkTags(bot=settings.identity.label, pair=settings.pair, strategy=settings.strategy.name,
                        mode=settings.mode)
        close = sink_starter(args)(bus, tags, ())
    except Exception:  # the one line on stderr still says why
        return
    bus.emit(BotError(time.time(), "refused", f"the bot refused to start and is not restarted: {error}; fix the cause, "
                                              "then start it again"))
    close()


def sink_starter(args: argparse.Namespace) -> SinkStarter:
    """Running bots report to the local Datadog agent unless --no-statsd; Slack when a webhook or token is configured."""
    return lambda bus, tags, secrets: build_sinks(args, bus, tags, statsd_default=True, slack_default=True, secrets=secrets)
