"""Every command's ``--help`` reads as plain text: no RST markup from the docstrings it is made of, no description
cut mid-sentence, and every flag says what it is."""

from __future__ import annotations

import re

import pytest

from candlebot.cli import SUBCOMMANDS, TRADING, main

COMMANDS = [[name] for name in [*SUBCOMMANDS, *TRADING]] + [["collector", "book"], ["collector", "export"]]


def _help(capsys, words: list[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*words, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_help_has_no_rst_markup(words, capsys):
    text = _help(capsys, words)
    assert text.startswith("usage: ") and "``" not in text, text


def test_replays_description_is_whole_sentences(capsys):
    text = _help(capsys, ["replay"])
    description = " ".join(text.split("\n\n")[1].split())
    assert description.endswith("side by side with the bot's."), description


@pytest.mark.parametrize("words", [["collector"], ["download"], ["data"], ["new-strategy"]], ids=" ".join)
def test_every_flag_of_the_commands_here_has_a_help_text(words, capsys):
    text = _help(capsys, words)
    lines = text.split("\noptions:\n", 1)[1].splitlines() + [""]
    flag = r"  -[-\w]+( [A-Z_.]+| \{[^}]*\})?(, -[-\w]+( [A-Z_.]+| \{[^}]*\})?)*"
    # a flag alone on its line has its help on the next, indented further (argparse wraps long flag names so)
    bare = [line.strip() for line, after in zip(lines, lines[1:])
            if re.fullmatch(flag, line) and not re.match(r" {8,}\S", after)]
    assert bare == [], bare
