"""What ``pip install .`` ships: every folder of Python code is a package that setup.py finds.

A folder without ``__init__.py`` still imports from a checkout (as a namespace package), so the
tests pass there while the installed command fails with ModuleNotFoundError.
"""

from __future__ import annotations

from setuptools import find_packages

from tests.support.bots import REPO

SHIPPED_ROOTS = ("candlebot", "strategies", "exchanges", "collector")


def test_every_folder_of_code_is_a_package_the_wheel_ships():
    found = set(find_packages(where=str(REPO), include=[f"{root}*" for root in SHIPPED_ROOTS]))
    folders = {
        ".".join(path.parent.relative_to(REPO).parts)
        for root in SHIPPED_ROOTS
        for path in (REPO / root).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert folders - found == set()
