"""Shared fixtures: where the recorded market data lives (tests/data, in the repository: a fresh clone needs nothing
beside it); a check that every test which starts a process or a server is marked ``integration``, so
``pytest -m "not integration"`` really runs none; and a check that our modules are imported by one name only
(``candlebot.exchanges``, never ``exchanges``: through the symlinks the bare name would load second copies
with distinct classes)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
TEST_DATA = REPO / "tests" / "data"  # recorded market data, sources and licences in its README.md


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The recorded market data the tests read (the name is older than the folder: it used to be ../shared/data)."""
    return TEST_DATA


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the whole run; tests make their own databases in it."""
    from tests.support import postgres

    if not postgres.available():
        pytest.fail(f"PostgreSQL 15 not found under {postgres.PG_BIN} (.ci/run installs it)")
    server = postgres.start()
    try:
        yield server
    finally:
        postgres.stop(server)


@pytest.fixture(scope="session", autouse=True)
def candle_cache_dir(tmp_path_factory) -> Iterator[Path]:
    """Backtests (in-process and child processes) cache candles here, never beside the shared recorded data; the
    environment is given back as it was when the session ends."""
    directory = tmp_path_factory.mktemp("candle-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CANDLEBOT_CACHE_DIR", str(directory))
        yield directory


@pytest.fixture(scope="session", autouse=True)
def runtime_dir(tmp_path_factory) -> Iterator[Path]:
    """Bots started by the tests register their API key's state dir here (candlebot.live.keyshare), not machine-wide;
    the environment is given back as it was when the session ends."""
    directory = tmp_path_factory.mktemp("runtime")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CANDLEBOT_RUNTIME_DIR", str(directory))
        yield directory


# -- parallel runs (pytest-xdist, on by default in pytest.ini) -----------------------------------------------------
# Each worker is its own process with its own session fixtures (tmp dirs, $CANDLEBOT_RUNTIME_DIR, PostgreSQL server).
# ``--dist loadscope`` gives a module to one worker whole, so a module fixture (a started simulator, a bot run, a
# browser) is set up once. (``loadgroup`` would split modules finer, but it silently stops grouping on pytest 9:
# pytest-dev/pytest-xdist#1386.)
def _module(item: pytest.Item) -> str:
    return item.nodeid.partition("::")[0]


@pytest.hookimpl(trylast=True)  # after pytest's own reordering by parametrized fixtures
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with slow tests first, in their order; then the rest: workers start on the long ones and the many
    short ones fill the gaps at the end, so the run ends when the work does, not when a long module started last
    does. A module keeps its own order."""
    first: dict[str, tuple[bool, int]] = {}
    for position, item in enumerate(items):
        key = (item.get_closest_marker("slow") is None, position)
        first[_module(item)] = min(first.get(_module(item), key), key)
    order = {id(item): (first[_module(item)], position) for position, item in enumerate(items)}
    items[:] = sorted(items, key=lambda item: order[id(item)])


# -- integration marker check -------------------------------------------------------------------------------------
# An audit hook (PEP 578; no patching) sees every process and listening socket a test starts, in its fixtures too.
_STARTS = {"subprocess.Popen", "os.fork", "os.posix_spawn", "os.exec", "socket.bind"}
_started: list[str] = []


_BARE = frozenset({"strategies", "exchanges", "collector"})  # installed and imported as candlebot.<name> only
_bare_imports: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event in _STARTS:
        _started.append(f"{event} {args[1:2] if event == 'socket.bind' else args[:1]}")  # slices: a hook must not raise
    elif event == "import" and args and isinstance(args[0], str) and args[0].partition(".")[0] in _BARE:
        _bare_imports.append(args[0])


sys.addaudithook(_audit)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    _started.clear()
    _bare_imports.clear()
    yield


def _bare_names() -> list[str]:
    """Our outer packages loaded under their top-level name in this process (by a test, a fixture or collection)."""
    return sorted({*_bare_imports, *(name for name in list(sys.modules) if name.partition(".")[0] in _BARE)})


_workers_bare: list[str] = []  # under pytest-xdist: what each worker found, gathered by the controller


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    _workers_bare.extend(getattr(node, "workeroutput", {}).get("bare_imports", ()))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    bare = sorted({*_bare_names(), *_workers_bare})
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: its stderr is not shown, the controller reports for it
        workeroutput["bare_imports"] = bare
        return
    if bare:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nFAILED: imported by a second name: {', '.join(bare)}; import candlebot.<name> only", file=sys.stderr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    # setup and call only: a session fixture's teardown (stopping PostgreSQL) runs after whichever test came last
    if call.when != "call" or not report.passed:
        return
    if _bare_imports:
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} imports {_bare_imports[0]}: our modules have one name, "
                           f"candlebot.{_bare_imports[0]}")
        return
    if item.get_closest_marker("integration") is not None:
        return
    if "postgres_server" in getattr(item, "fixturenames", ()):  # started once for the session, used by many
        _started.append("the PostgreSQL server")
    if _started:
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} starts a process or a server ({_started[0]}, {len(_started)} in all) but is not "
                           "marked integration: add @pytest.mark.integration (or a module pytestmark)")
