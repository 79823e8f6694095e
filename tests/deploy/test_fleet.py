"""The fleet generator checks every value: hostile text cannot add a supervisor section or an environment
variable, strategies and their parameters are built, --mkdirs creates every folder the config names.

The generated file is read back with supervisor's own parser (the one supervisord uses)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from supervisor.datatypes import dict_of_key_value_pairs
from supervisor.options import UnhosedConfigParser

from tests.support.bots import REPO

pytestmark = pytest.mark.integration

FLEET = REPO / "deploy" / "supervisor" / "generate.py"  # candlebot fleet, from the checkout
GOOD_BOT = 'name = "a"\npair = "XBTUSD"\nstrategy = "sma_cross"\n'


def generate(tmp_path: Path, text: str, *args: str) -> subprocess.CompletedProcess:
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(text)
    return subprocess.run([sys.executable, str(FLEET), str(fleet), *args], capture_output=True, text=True, timeout=60)


def toml_string(value: str) -> str:
    """A TOML basic string holding ``value`` exactly (newlines, quotes and all)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def parsed(conf: str) -> UnhosedConfigParser:
    parser = UnhosedConfigParser()
    parser.read_string(conf)
    return parser


INJECT = '\n[program:evil]\ncommand=/bin/sh -c "touch /tmp/pwned"\n'


@pytest.mark.parametrize(
    "fleet_head, bot, message",
    [
        ("", f"name = {toml_string('a]' + INJECT)}\npair = \"XBTUSD\"\nstrategy = \"macd\"\n", "bot name"),
        ("", f'name = "a"\npair = {toml_string("XBTUSD" + INJECT)}\nstrategy = "macd"\n', "pair"),
        ("", f'name = "a"\npair = "XBTUSD"\nstrategy = {toml_string("macd" + INJECT)}\n', "strategy"),
        ("", GOOD_BOT + f"extra_args = [{toml_string('--quiet' + INJECT)}]\n", "control character"),
        ("", GOOD_BOT + 'extra_args = ["--name", "x ;comment"]\n', "comment"),
        ("", GOOD_BOT + f"params = {{ fast = {toml_string('3' + INJECT)} }}\n", "control character"),
        ("", GOOD_BOT + 'params = { "fast\\n[program:evil]" = 3 }\n', "parameter name"),
        ("", GOOD_BOT + f'mode = "live"\nkey_file = {toml_string("k.key" + INJECT)}\n', "control character"),
        ("", GOOD_BOT + 'cash = "1e23"\n', "--cash must be at most"),
        ("", GOOD_BOT + "period = 1e308\n", "candle period must be at most"),
        ("", GOOD_BOT + "poll = nan\n", "poll must be a positive number"),
        (f"command = {toml_string('candlebot' + INJECT)}\n", GOOD_BOT, "control character"),
        (f"state_dir = {toml_string('state' + INJECT)}\n", GOOD_BOT, "control character"),
        (f"user = {toml_string('bots' + INJECT)}\n", GOOD_BOT, "control character"),
        ('user = "bots ;x"\n', GOOD_BOT, "comment"),
        ('environment = { A = "1\\",EVIL=\\"2" }\n', GOOD_BOT, "quotes are not allowed"),
        ('environment = { A = "it\'s" }\n', GOOD_BOT, "quotes are not allowed"),
        (f"environment = {{ A = {toml_string('1' + INJECT)} }}\n", GOOD_BOT, "control character"),
        ('environment = { "A=1,EVIL" = "2" }\n', GOOD_BOT, "is not a variable name"),
        ('environment = { A = true }\n', GOOD_BOT, "must be a string or a number"),
        ('command = "candlebot \'unclosed"\n', GOOD_BOT, "No closing quotation"),
        ("", GOOD_BOT + f"[[collector]]\nname = \"books\"\npairs = [{toml_string('XBTUSD' + INJECT)}]\n", "control character"),
        ("", GOOD_BOT + f"[[collector]]\nname = \"books\"\npairs = [\"XBTUSD\"]\ndb = {toml_string('sqlite:///b' + INJECT)}\n",
         "control character"),
        ("", GOOD_BOT + f"[[collector]]\nname = \"books\"\npairs = [\"XBTUSD\"]\nextra_args = [{toml_string('-v' + INJECT)}]\n",
         "control character"),
    ],
)
@pytest.mark.slow
def test_hostile_values_are_refused_in_one_line(tmp_path, fleet_head, bot, message):
    result = generate(tmp_path, f'[fleet]\nroot = "bots"\n{fleet_head}[[bot]]\n{bot}', "-o", str(tmp_path / "fleet.conf"))
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("candlebot fleet: error: ") and message in lines[0], result.stderr
    assert not (tmp_path / "fleet.conf").exists()


@pytest.mark.parametrize(
    "bot, message",
    [
        ('name = "a"\npair = "XBTUSD"\nstrategy = "moon_shot"\n', "bot a: unknown strategy 'moon_shot'"),
        ('name = "a"\npair = "XBTUSD"\nstrategy = "nope.module:Thing"\n', "bot a: cannot load strategy 'nope.module:Thing'"),
        (GOOD_BOT + "params = { fats = 3 }\n", "bot a: unknown parameter 'fats' for strategy sma_cross"),
        (GOOD_BOT + "params = { fast = 40 }\n", "bot a: slow (30) must be longer than fast (40)"),
        (GOOD_BOT + 'params = { fast = "ten" }\n', "bot a: parameter fast: 'ten' is not a valid integer"),
        ('name = "a"\npair = "XBTUSD"\nstrategy = "direction_mask"\nparams = { mask = [1, 2, 0] }\n', "mask holds 0s and 1s only"),
        (GOOD_BOT + 'extra_args = ["--cahs", "500"]\n', "bot a: unrecognized arguments: --cahs 500"),
        (GOOD_BOT + 'extra_args = ["--data", "demo"]\n', "bot a: --data makes a backtest, not a bot"),
        (GOOD_BOT + 'extra_args = ["--name", "b"]\n', "bot a: extra_args renames the bot to 'b'"),
        (GOOD_BOT + 'mode = "live"\nkey_file = "k.key"\nextra_args = ["--state-dir", "elsewhere"]\n[[bot]]\n'
         'name = "b"\npair = "XBTUSD"\nstrategy = "macd"\nmode = "live"\nkey_file = "k.key"\n',
         "must share one state dir (its nonce file, rate counters and the fleet-wide audit live there): "
         "a uses elsewhere, b uses the default state dir"),
        (GOOD_BOT + "period = 0.001\n", "not a whole number of seconds"),
    ],
)
@pytest.mark.slow
def test_strategies_parameters_and_flags_are_checked_by_building_them(tmp_path, bot, message):
    result = generate(tmp_path, f'[fleet]\nroot = "bots"\n[[bot]]\n{bot}')
    assert result.returncode == 2 and result.stderr.strip().startswith("candlebot fleet: error: "), result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.slow
def test_quotes_and_odd_characters_reach_the_bot_exactly_and_add_nothing(tmp_path):
    odd = "it's \"quoted\" 100%;x#1 \\ $HOME"
    text = f"""[fleet]
root = "bots"
command = ["/opt/candle bot/bin/candlebot"]
environment = {{ DD_AGENT_HOST = "127.0.0.1", LABEL = "a,b=c 50%" }}
[[bot]]
name = "a"
pair = "BTC/USD"
strategy = "sma_cross"
params = {{ fast = 3, slow = 8 }}
extra_args = ["--log-dir", {toml_string(odd)}]
[[bot]]
name = "b"
pair = "XBTUSD"
strategy = "direction_mask"
params = {{ mask = [1, 0, 1] }}
cash = 250.5
"""
    result = generate(tmp_path, text)
    assert result.returncode == 0, result.stderr
    config = parsed(result.stdout)
    assert config.sections() == ["program:a", "program:b", "group:candlebots"]
    argv = shlex.split(config.get("program:a", "command").replace("%%", "%"))
    assert argv[0] == "/opt/candle bot/bin/candlebot" and argv[-2:] == ["--log-dir", odd]
    assert argv[argv.index("-c") + 1] == "BTC/USD" and "--param" in argv and "fast=3" in argv
    b = shlex.split(config.get("program:b", "command"))
    assert "mask=1,0,1" in b and b[b.index("--cash") + 1] == "250.5"
    env = dict_of_key_value_pairs(config.get("program:a", "environment").replace("%%", "%"))
    assert env == {"DD_AGENT_HOST": "127.0.0.1", "LABEL": "a,b=c 50%"}


@pytest.mark.slow
def test_mkdirs_creates_every_folder_the_config_names(tmp_path):
    text = f'[fleet]\nroot = "bots"\nstate_dir = "var/state"\n[[bot]]\n{GOOD_BOT}[[bot]]\nname = "b"\npair = "XBTUSD"\nstrategy = "macd"\n'
    run_dir = tmp_path / "run" / "supervisor"
    result = generate(tmp_path, text, "-o", str(tmp_path / "fleet.conf"), "--mkdirs", "--standalone", "--run-dir", str(run_dir))
    assert result.returncode == 0, result.stderr
    for folder in (tmp_path / "bots" / "a" / "logs", tmp_path / "bots" / "b" / "logs", tmp_path / "var" / "state", run_dir):
        assert folder.is_dir(), folder
    config = parsed((tmp_path / "fleet.conf").read_text())
    for section, key in (("supervisord", "logfile"), ("supervisord", "pidfile"), ("unix_http_server", "file")):
        assert Path(config.get(section, key)).parent.is_dir()
    for name in ("a", "b"):
        assert Path(config.get(f"program:{name}", "directory")).is_dir()
        assert Path(config.get(f"program:{name}", "stdout_logfile")).parent.is_dir()


@pytest.mark.slow
def test_the_example_fleet_file_is_valid(tmp_path):
    result = subprocess.run([sys.executable, str(FLEET), str(REPO / "deploy" / "supervisor" / "fleet.example.toml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    config = parsed(result.stdout)
    assert "--reconcile-window" in config.get("program:maskbot", "command")  # extra_args
    assert "DD_AGENT_HOST" in config.get("program:itchbot", "environment")


def test_candlebot_fleet_is_the_installed_generator(tmp_path):
    """`candlebot fleet` (what pip installs) writes what the checkout's script writes, and fails the same way."""
    example = str(REPO / "deploy" / "supervisor" / "fleet.example.toml")
    installed = subprocess.run([sys.executable, "-m", "candlebot", "fleet", example], capture_output=True, text=True,
                               timeout=60, cwd=tmp_path)
    script = subprocess.run([sys.executable, str(FLEET), example], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert installed.returncode == script.returncode == 0, installed.stderr + script.stderr
    assert installed.stdout == script.stdout and "[program:itchbot]" in installed.stdout
    assert installed.stdout.startswith("; generated by candlebot fleet from ")
    missing = subprocess.run([sys.executable, "-m", "candlebot", "fleet", str(tmp_path / "nope.toml")], capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 2 and missing.stderr.strip() == f"candlebot fleet: error: fleet file not found: {tmp_path / 'nope.toml'}"
