"""`candlebot COMMAND --help` and its error lines name the command as the user typed it (the new-user review:
`candlebot ledger --help` showed `usage: candlebot-ledger`, `candlebot collector --help` `candlebot-collector`).
The commands also installed as scripts of their own keep their script name when run that way."""

from __future__ import annotations

import subprocess
import sys

import pytest

from candlebot.cli import SUBCOMMANDS, TRADING
from tests.support.bots import REPO

pytestmark = pytest.mark.integration

COMMANDS = sorted([*SUBCOMMANDS, *TRADING]) + ["collector book", "collector export", "data list"]


def candlebot(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "candlebot", *argv], capture_output=True, text=True, cwd=REPO, timeout=60)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_names_the_command_as_typed(command):
    words = command.split()
    shown = candlebot(*words, "--help")
    assert shown.returncode == 0, shown.stderr
    usage = shown.stdout.splitlines()[0]
    expected = "candlebot data" if command == "data list" else f"candlebot {command}"  # `list` is data's argument
    assert usage.startswith(f"usage: {expected} "), usage
    assert "candlebot-" not in shown.stdout and "__main__" not in shown.stdout, shown.stdout
    assert candlebot("help", words[0]).stdout.splitlines()[0].startswith(f"usage: candlebot {words[0]} ")


@pytest.mark.parametrize("command", ["ledger", "collector", "kraken-sim", "demo"])
def test_a_mistake_names_the_command_as_typed_in_one_line(command):
    refused = candlebot(command, "--no-such-flag")
    assert refused.returncode == 2 and refused.stderr.startswith(f"candlebot {command}: error: "), refused.stderr
    assert refused.stderr.count("\n") == 1 and "candlebot-" not in refused.stderr


@pytest.mark.parametrize("script", ["candlebot-ledger", "candlebot-collector", "candlebot-kraken-sim", "candlebot-demo"])
def test_the_scripts_of_their_own_keep_their_name(script):
    """What setup.py's console script runs: the module's main() with no arguments but the command line's."""
    module = "candlebot.cli." + script.removeprefix("candlebot-").replace("-", "_")
    run = f"import sys; from {module} import main; sys.argv[1:] = ['--help']; sys.exit(main())"
    shown = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert shown.returncode == 0 and shown.stdout.startswith(f"usage: {script} "), shown.stdout + shown.stderr
    bad = f"import sys; from {module} import main; sys.argv[1:] = ['--no-such-flag']; sys.exit(main())"
    refused = subprocess.run([sys.executable, "-c", bad], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert refused.returncode == 2 and refused.stderr.startswith(f"{script}: error: "), refused.stderr
