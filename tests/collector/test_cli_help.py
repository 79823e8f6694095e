"""The collector's ``--help`` names the read-back commands, which have their own parsers."""

from __future__ import annotations

import pytest

from candlebot.cli.collector import main


def test_help_names_book_and_export(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "candlebot-collector book --db DB --pair PAIR --at TIME" in text
    assert "candlebot-collector export --db DB --pair PAIR --from START --to END" in text
