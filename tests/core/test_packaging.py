"""What ``pip install .`` ships: every folder of Python code is a package that setup.py finds, all of it
under ``candlebot``.

A folder without ``__init__.py`` still imports from a checkout (as a namespace package), so the
tests pass there while the installed command fails with ModuleNotFoundError. The design card's
top-level folders ship as ``candlebot.strategies``, ``candlebot.exchanges`` and ``candlebot.collector``
(``candlebot/<name>`` links to ``../<name>``), so that a user's own package of the same name never
shadows ours.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from setuptools import find_packages

from tests.support.bots import REPO

TOP_LEVEL = ("strategies", "exchanges", "collector")


def test_every_folder_of_code_is_a_package_the_wheel_ships():
    found = set(find_packages(where=str(REPO), include=["candlebot", "candlebot.*"]))
    folders = {
        ".".join(("candlebot", *path.parent.relative_to(REPO).parts))
        for root in TOP_LEVEL
        for path in (REPO / root).rglob("*.py")
        if "__pycache__" not in path.parts
    } | {".".join(path.parent.relative_to(REPO).parts) for path in (REPO / "candlebot").glob("[!_]*/**/*.py")}
    assert {"candlebot.strategies", "candlebot.exchanges.kraken_sim", "candlebot.collector.storage"} <= folders
    assert folders - found == set()


def test_the_top_level_folders_are_the_packages_candlebot_imports():
    for name in TOP_LEVEL:
        assert (REPO / "candlebot" / name).resolve() == (REPO / name).resolve()


@pytest.mark.slow
@pytest.mark.integration
def test_a_users_packages_named_like_ours_do_not_break_candlebot(tmp_path):
    for name in TOP_LEVEL:  # what a user's project may well hold, first on sys.path
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('the user package was imported')\n")
    run = subprocess.run([sys.executable, "-c", "import sys; sys.argv = ['candlebot', '--data', 'demo', '-p', '60', "
                          "'--strategy', 'sma_cross', '--quiet']; import candlebot.cli; sys.exit(candlebot.cli.main())"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "trades" in run.stdout
