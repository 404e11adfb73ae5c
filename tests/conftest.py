"""Shared fixtures. Every test gets its own data folder, so nothing touches the real one.

The tests are grouped by what they test: models/, ui/, briefing/ (the sheet and its printing),
sync/ (a laptop syncing with a real server process), server/ (the server on its own), and at the
top the checks that span the project (layers, command line, schema against migrations, the
laptop's files). Helpers live in support/; their fixtures are registered here as plugins, so a
test names a fixture in its arguments and never imports it.
"""

from __future__ import annotations

import faulthandler
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from models.db import Database, open_database
from tests.support import bundle_build

_STDERR = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    # The terminal's stderr, kept before any test's output capture takes file descriptor 2 over.
    config.stash[_STDERR] = os.dup(2)
    # pytest-xdist hands out the files with the most tests first unless told not to, which put
    # the longest (few tests, minutes each) last; the order of pytest_collection_modifyitems holds.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


# CI ends a run at 90 minutes without a word; the suite takes about 25. Past this, the
# pytest-xdist controller prints its stacks and exits, so a run stuck outside any test (where
# the per-test backstop below cannot see it) still ends with something to read.
SESSION_LIMIT = float(os.environ.get("RAPPORT_TEST_SESSION_LIMIT", 70 * 60))


def pytest_sessionstart(session: pytest.Session) -> None:
    # Under pytest-xdist only the controller starts the build (its workers inherit where it
    # is); a worker's bundle test waits for it.
    worker = hasattr(session.config, "workerinput")
    if bundle_build.REQUIRED and not session.config.option.collectonly and not worker:
        bundle_build.start()
    if session.config.pluginmanager.has_plugin("dsession"):  # the controller: it runs no test
        faulthandler.dump_traceback_later(SESSION_LIMIT, exit=True, file=session.config.stash[_STDERR])


def pytest_sessionfinish(session: pytest.Session) -> None:
    bundle_build.stop()
    if session.config.pluginmanager.has_plugin("dsession"):
        faulthandler.cancel_dump_traceback_later()


def _rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::")[0]
    if path == "tests/test_bundle.py":
        return 3  # it waits for the build that started with the session: last
    if item.get_closest_marker("slow"):
        return 0
    if path.startswith(("tests/sync/", "tests/server/")):
        return 1  # real servers, both backends: the long files
    return 2


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """A backstop for pytest-timeout. Its signal method raises in Python code only: a test stuck
    in C (a modal dialog's event loop, a lock) never sees it, and the whole run hangs until CI
    kills it without a word. Two minutes past the test's limit, faulthandler prints every
    thread's stack and ends the process: under pytest-xdist the controller reports the crashed
    test and carries on with a new worker."""
    marker = item.get_closest_marker("timeout")
    limit = float(marker.args[0]) if marker and marker.args else float(item.config.getini("timeout") or 300)
    faulthandler.dump_traceback_later(limit + 120, exit=True, file=item.config.stash[_STDERR])
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """The long files first: under pytest-xdist (``--dist loadfile``) a file of minutes handed
    out last keeps one process busy long after the other has run out of work (CI measured eight
    minutes of that). Files stay whole and keep their order within a rank (a stable sort)."""
    ranks: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        ranks[path] = min(ranks.get(path, 3), _rank(item))
    items.sort(key=lambda item: ranks[item.nodeid.split("::")[0]])


pytest_plugins = ["tests.support.sync_support", "tests.support.scale_support", "tests.support.keyrings"]

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from ui.context import AppContext
    from ui.errors import ErrorPresenter
    from ui.main_window import MainWindow
    from ui.tasks import TaskRunner


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("RAPPORT_DATA_DIR", str(data))
    return data


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves a thread of its own running (napari's rule)."""
    before = set(threading.enumerate())
    yield
    leftover = [
        t
        for t in threading.enumerate()
        if t not in before
        and t.is_alive()
        and not t.daemon
        and not t.name.startswith(("QThread", "Dummy", "asyncio", "ThreadPoolExecutor"))
    ]
    for t in leftover:
        t.join(timeout=5)
    still = [t.name for t in leftover if t.is_alive()]
    assert not still, f"test left threads running: {still}"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "rapport.sqlite"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = open_database(db_path)
    yield database
    database.close()


@pytest.fixture
def tasks(qapp: object) -> Iterator[TaskRunner]:
    """A task runner that must end idle with nothing unhandled (Qt loads only for GUI tests)."""
    from ui.tasks import TaskRunner

    unhandled: list[BaseException] = []
    runner = TaskRunner(unhandled.append)
    yield runner
    assert runner.wait_idle(10_000)
    assert unhandled == []
    runner.deleteLater()


@pytest.fixture
def presenter() -> ErrorPresenter:
    """Errors reach the tests through its signal: no modal boxes (Qt loads only for GUI tests)."""
    from ui.errors import ErrorPresenter

    shown = ErrorPresenter(log_file=Path("/tmp/rapport-test.log"))
    shown.interactive = False
    return shown


@pytest.fixture
def shown_errors(presenter: ErrorPresenter) -> list[tuple[str, str]]:
    """(title, message) of every error the presenter showed; a test that expects one takes it out."""
    shown: list[tuple[str, str]] = []
    presenter.error_shown.connect(lambda title, message: shown.append((title, message)))
    return shown


@pytest.fixture
def ctx(
    qapp: object, db: Database, presenter: ErrorPresenter, shown_errors: list[tuple[str, str]]
) -> Iterator[AppContext]:
    """What the app gives every view, over the test's database. It must end idle, and with no
    error shown that the test did not take out of ``shown_errors``."""
    from ui.context import AppContext

    context = AppContext(db, presenter)
    yield context
    assert context.tasks.wait_idle(10_000)
    assert shown_errors == []
    context.deleteLater()


@pytest.fixture
def window(qtbot: QtBot, db: Database, presenter: ErrorPresenter) -> Iterator[MainWindow]:
    """The real main window over the test's database, shown and idle; closed afterwards."""
    from tests.support.gui_helpers import open_window

    win = open_window(qtbot, db, presenter)
    yield win
    win.close()
    win.ctx.tasks.wait_idle()
