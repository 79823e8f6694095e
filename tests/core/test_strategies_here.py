"""``candlebot strategies`` lists what ``--strategy NAME`` loads, from the same folders in the same order: the
``--strategy-path`` directories, then the current folder (a file there was loadable but not listed)."""

from __future__ import annotations

import re

from candlebot.assembly import resolve_strategy
from candlebot.cli import main
from candlebot.cli.new_strategy import main as new_strategy


def test_a_strategy_file_in_the_current_folder_is_listed_and_is_what_strategy_name_loads(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert new_strategy(["ema_here"]) == 0
    capsys.readouterr()
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    assert "in the current folder (--strategy NAME):" in out
    assert re.search(r"^  ema_here +\S.*\n +fast=\d+  slow=\d+", out, re.M)
    assert resolve_strategy("ema_here").__name__ == "EmaHere"  # the name listed is the name --strategy takes


def test_a_script_in_the_current_folder_is_not_run_to_be_listed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "setup.py").write_text("open('ran', 'w').close()\n\nclass Helper:\n    pass\n")
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    assert not (tmp_path / "ran").exists() and "current folder" not in out and "setup" not in out


def test_the_current_folder_given_as_strategy_path_is_listed_once(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert new_strategy(["ema_once"]) == 0
    capsys.readouterr()
    assert main(["strategies", "--strategy-path", "."]) == 0
    out = capsys.readouterr().out
    assert out.count("ema_once") == 1 and "in . (--strategy-path . --strategy NAME" in out
