"""``candlebot data``: a mistyped or missing subcommand is named as the user sees it, a subcommand."""

from __future__ import annotations

import pytest

from candlebot.cli import main


@pytest.mark.parametrize("argv, words", [
    (["data", "lst"], ["unknown data subcommand 'lst'", "did you mean list?"]),
    (["data", "show"], ["unknown data subcommand 'show'", "list"]),
    (["data"], ["name a data subcommand", "candlebot data list"]),
])
def test_a_wrong_or_missing_subcommand_is_one_line_naming_the_subcommand(argv, words, capsys):
    assert main(argv) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert all(word in line for word in words), line
    assert "argument action" not in line and "invalid choice" not in line


def test_list_still_lists(tmp_path, capsys):
    assert main(["data", "list", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"nothing in {tmp_path}\n"
