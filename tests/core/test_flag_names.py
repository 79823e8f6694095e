"""One name per concept in every command: ``--from/--to`` (aliases ``-s/-e/--since/--until``), ``-c/--pair``
(repeatable where a command takes several; the collector's ``--pairs A,B`` kept), ``--kraken-url`` for Kraken's REST
address, ``-o/--output`` for the main output file, ``--png`` for the report's picture, ``--data-dir`` for the data
folder. Each command's own parser reads them; a refusal names the flag as typed."""

from __future__ import annotations

import argparse
from typing import Callable

import pytest

from candlebot.cli.args import BACKTEST, BOT, build_parser

ParserFactory = Callable[[], argparse.ArgumentParser]


def _trading(*uses: str) -> ParserFactory:
    return lambda: build_parser(uses) if uses else build_parser()


def _optimize() -> argparse.ArgumentParser:
    from candlebot.cli.optimize import build_optimize_parser

    return build_optimize_parser()


def _download() -> argparse.ArgumentParser:
    from candlebot.cli.download import build_parser as download_parser

    return download_parser()


def _collector(command: str | None = None) -> ParserFactory:
    from candlebot.cli.collector import read_parser, run_parser

    return (lambda: run_parser()) if command is None else (lambda: read_parser(command))


def _replay() -> argparse.ArgumentParser:
    from candlebot.cli.replay import build_parser as replay_parser

    return replay_parser()


STRATEGY = ["--strategy", "sma_cross"]
# command: (its parser, the flags it needs anyway, where the time range goes, where -o goes)
RANGES = {
    "candlebot": (_trading(), STRATEGY, ("start", "end")),
    "backtest": (_trading(BACKTEST), [*STRATEGY, "--data", "demo"], ("start", "end")),
    "optimize": (_optimize, [*STRATEGY, "--data", "demo", "--space", "fast=5..9"], ("start", "end")),
    "download": (_download, [], ("since", "until")),
    "collector export": (_collector("export"), ["--db", "sqlite:///x", "-c", "XBTUSD"], ("start", "end")),
}
OUTPUTS = {
    "candlebot": (_trading(), STRATEGY, "report"),
    "backtest": (_trading(BACKTEST), [*STRATEGY, "--data", "demo"], "report"),
    "optimize": (_optimize, [*STRATEGY, "--data", "demo", "--space", "fast=5..9"], "html"),
    "download": (_download, [], "data_dir"),
    "collector export": (_collector("export"), ["--db", "sqlite:///x", "-c", "XBTUSD", "--from", "1", "--to", "2"], "output"),
    "replay": (_replay, ["--name", "bot"], "report"),
}
KRAKEN_URLS = {
    "candlebot": (_trading(), STRATEGY, "kraken_url"),
    "run": (_trading(BOT), STRATEGY, "kraken_url"),
    "download": (_download, [], "kraken_url"),
    "collector": (_collector(), ["-c", "XBTUSD"], "rest_url"),
}


@pytest.mark.parametrize("command", RANGES)
@pytest.mark.parametrize("first, last", [("--from", "--to"), ("-s", "-e"), ("--since", "--until")])
def test_every_command_with_a_time_range_reads_from_and_to_and_their_aliases(command, first, last):
    parser, needed, (start, end) = RANGES[command]
    args = parser().parse_args([*needed, first, "2023-01-01", last, "2023-02-01"])
    assert (getattr(args, start), getattr(args, end)) == ("2023-01-01", "2023-02-01")


@pytest.mark.parametrize("command", OUTPUTS)
@pytest.mark.parametrize("flag", ["-o", "--output"])
def test_every_command_with_an_output_file_reads_o_and_output(command, flag, tmp_path):
    parser, needed, dest = OUTPUTS[command]
    args = parser().parse_args([*needed, flag, str(tmp_path / "out")])
    assert str(getattr(args, dest)) == str(tmp_path / "out")


@pytest.mark.parametrize("command", KRAKEN_URLS)
def test_every_command_that_calls_kraken_reads_kraken_url(command):
    parser, needed, dest = KRAKEN_URLS[command]
    assert getattr(parser().parse_args([*needed, "--kraken-url", "http://127.0.0.1:9"]), dest) == "http://127.0.0.1:9"


@pytest.mark.parametrize("command", ["candlebot", "backtest", "run", "optimize"])
@pytest.mark.parametrize("flag", ["-c", "--pair"])
def test_one_pair_commands_read_c_and_pair(command, flag):
    parser = {"candlebot": _trading(), "backtest": _trading(BACKTEST), "run": _trading(BOT), "optimize": _optimize}[command]
    needed = {"backtest": ["--data", "demo"], "optimize": ["--data", "demo", "--space", "fast=5..9"]}.get(command, [])
    assert parser().parse_args([*STRATEGY, *needed, flag, "ETHUSD"]).pair == "ETHUSD"


def test_download_and_the_collector_take_several_pairs_and_the_collector_keeps_pairs():
    assert _download().parse_args(["-c", "XBTUSD", "--pair", "ETHUSD"]).pair == ["XBTUSD", "ETHUSD"]
    args = _collector()().parse_args(["-c", "XBTUSD", "--pair", "ETHUSD", "--pairs", "SOLUSD,XBTUSD"])
    assert (args.pair_list, args.pairs) == (["XBTUSD", "ETHUSD"], "SOLUSD,XBTUSD")
    assert _collector("book")().parse_args(["--db", "sqlite:///x", "-c", "XBTUSD", "--at", "1"]).pair == "XBTUSD"


def _data() -> argparse.ArgumentParser:
    from candlebot.cli.data import build_parser as data_parser

    return data_parser()


def _report_help(capsys) -> str:
    from candlebot.cli.report import main

    with pytest.raises(SystemExit):
        main(["--help"])
    return capsys.readouterr().out


def test_the_reports_picture_is_png_in_backtest_and_report(capsys, tmp_path):
    for parser in (_trading(BACKTEST), _trading()):
        assert parser().parse_args([*STRATEGY, "--data", "demo", "--png", "r.png"]).report_png == "r.png"
        assert "--png FILE.png" in parser().format_help() and "--report-png" not in parser().format_help()
    assert "--png FILE.png" in _report_help(capsys)


def test_the_data_folder_is_data_dir_in_download_and_data_list():
    assert str(_download().parse_args(["--data-dir", "d"]).data_dir) == "d"
    assert str(_data().parse_args(["list", "--data-dir", "d"]).data_dir) == "d"
    for parser in (_download, _data):
        assert "--data-dir DIR" in parser().format_help()


@pytest.mark.parametrize("flag", ["-o", "--output", "--report", "--png", "--report-png"])
def test_a_backtest_output_refused_names_the_flag_as_typed(flag, tmp_path, capsys):
    from candlebot.cli import main

    assert main(["backtest", "--data", "demo", *STRATEGY, flag, str(tmp_path / "nodir" / "x.out")]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert f": error: {flag}: folder of " in line


@pytest.mark.parametrize("flag", ["-o", "--output", "--data-dir"])
def test_a_download_folder_refused_names_the_flag_as_typed(flag, tmp_path, capsys):
    from candlebot.cli import main

    (tmp_path / "file").write_text("")
    assert main(["download", "-c", "XBTUSD", "-p", "5", "--from", "2024-01-01", flag, str(tmp_path / "file")]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert f": error: {flag} {tmp_path / 'file'}: is a file" in line


def test_the_old_spellings_still_work():
    assert _collector()().parse_args(["--pairs", "XBTUSD", "--rest-url", "http://h:1"]).rest_url == "http://h:1"
    assert _trading(BACKTEST)().parse_args([*STRATEGY, "--data", "demo", "--report", "r.html"]).report == "r.html"
    assert _optimize().parse_args([*STRATEGY, "--data", "demo", "--space", "fast=5..9", "--html", "o.html"]).html == "o.html"
    assert str(_download().parse_args(["--data-dir", "d"]).data_dir) == "d"
    assert _trading(BACKTEST)().parse_args([*STRATEGY, "--data", "demo", "--report-png", "r.png"]).report_png == "r.png"
    args = _trading()().parse_args([*STRATEGY, "--start", "1", "--end", "2"])
    assert (args.start, args.end) == ("1", "2")


def test_report_reads_o_and_output(capsys):
    from candlebot.cli.report import main

    with pytest.raises(SystemExit):
        main(["--help"])
    assert "-o FILE.html, --output FILE.html" in capsys.readouterr().out


def _kraken_sim() -> argparse.ArgumentParser:
    from candlebot.cli.kraken_sim import build_parser as kraken_sim_parser

    return kraken_sim_parser()


@pytest.mark.parametrize("first", ["--from", "-s", "--since", "--start"])
@pytest.mark.parametrize("when", ["2023-01-01", "1672531200"])
def test_kraken_sim_reads_from_as_every_command_does_and_keeps_start(first, when):
    """The simulator said --start (unix seconds only) where every other command says --from (a date too)."""
    assert _kraken_sim().parse_args([first, when]).start == 1_672_531_200
    assert _kraken_sim().parse_args([]).start is None


@pytest.mark.parametrize("flag", ["-c", "--pair"])
def test_kraken_sim_reads_c_for_its_pair(flag):
    assert _kraken_sim().parse_args([flag, "ETHUSD"]).pair == "ETHUSD"
    assert _kraken_sim().parse_args([]).pair == "XBTUSD"


def test_kraken_sim_help_shows_the_common_names_only():
    text = _kraken_sim().format_help()
    assert "--from TIME" in text and "-c PAIR, --pair PAIR" in text
    assert "--start " not in text and "--since" not in text


@pytest.mark.parametrize("parser", [_collector(), _collector("export"), _collector("book"), _kraken_sim],
                         ids=["collector", "collector export", "collector book", "kraken-sim"])
def test_help_names_what_a_value_is_not_the_variable_it_lands_in(parser):
    """collector --help showed --snapshot-interval SNAPSHOT_INTERVAL, --ws-url WS_URL, --kraken-url REST_URL: the
    argparse destination, not the kind of value (SECONDS, URL)."""
    made = parser()
    shown = {action.metavar or action.dest.upper() for action in made._actions
             if action.option_strings and action.nargs != 0 and action.choices is None and action.help != argparse.SUPPRESS}
    internal = {action.dest.upper() for action in made._actions if "_" in action.dest}
    assert not shown & internal, sorted(shown & internal)
