"""Sample data lives in a database of its own: it never mixes with the rep's records and never
syncs. Driven through the real window (and its app shell), the CLI and a real sync server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from models import errors
from models.db import open_database
from models.demo import fill_demo
from models.entities import SYNCED_CLASSES, Meta
from models.paths import default_db_path, sample_db_path
from models.sample import prepare_sample
from models.services import contacts
from models.services.contacts import ContactInput
from sync.errors import SampleDataNotSynced
from tests.support.gui_helpers import visible
from tests.support.sync_support import Laptop, contact
from ui.app import AppShell
from ui.dialogs import ContactDialog
from ui.errors import ErrorPresenter
from ui.main_window import MainWindow

WAIT = 10_000
ROOT = Path(__file__).resolve().parents[2]


def rows(path: Path) -> int:
    """Every row of every synced table and of the meta table, deleted ones included."""
    db = open_database(path, backup=False)
    try:
        with db.read() as s:
            n = sum(int(s.scalar(select(func.count()).select_from(cls)) or 0) for cls in SYNCED_CLASSES)
            return n + int(s.scalar(select(func.count()).select_from(Meta)) or 0)
    finally:
        db.close()


@pytest.fixture
def shell(qtbot: QtBot) -> Iterator[AppShell]:
    presenter = ErrorPresenter(log_file=Path("/tmp/rapport-test.log"))
    presenter.interactive = False
    app_shell = AppShell(default_db_path(), presenter)
    app_shell.start()  # the shell owns its windows (it deletes a window it replaces)
    yield app_shell
    app_shell.close()


def idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.ctx.tasks.pending == 0 and not window.contacts.model.busy, timeout=WAIT)


def switch(qtbot: QtBot, shell: AppShell, action: Callable[[], object]) -> MainWindow:
    with qtbot.waitSignal(shell.switched, timeout=WAIT) as switched:
        action()
    window = switched.args[0]
    assert isinstance(window, MainWindow) and shell.window is window
    idle(qtbot, window)
    return window


def own_window(qtbot: QtBot, shell: AppShell) -> MainWindow:
    """The window the app started with, on the rep's own (empty) database, once it has loaded."""
    assert shell.window is not None
    idle(qtbot, shell.window)
    return shell.window


def test_try_with_sample_data_opens_a_separate_labelled_database_and_back_is_one_action(
    qtbot: QtBot, shell: AppShell
) -> None:
    mine = own_window(qtbot, shell)
    assert "Sample" not in mine.windowTitle()
    view = mine.contacts
    assert view.list_stack.currentWidget() is view.empty  # the rep's own database starts empty
    assert view.demo_button.text() == "Try with sample data"

    sample = switch(qtbot, shell, lambda: qtbot.mouseClick(view.demo_button, Qt.MouseButton.LeftButton))
    assert sample.ctx.db.path == sample_db_path().resolve()
    assert "Sample data" in sample.windowTitle()
    assert sample.sample_badge.isVisible() and "Sample data" in sample.sample_badge.text()
    assert sample.leave_sample_button.isVisible()
    assert not sample.sync_button.isVisible() and not sample.sync_action.isEnabled()
    qtbot.waitUntil(lambda: sample.contacts.count.text() == "200 contacts", timeout=WAIT * 3)
    # One window: the sample took the place of the rep's own.
    shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    assert shown == [sample]

    # What the rep adds while trying it out stays in the sample database.
    sample.new_contact_action.trigger()
    dialog = visible(ContactDialog)
    qtbot.keyClicks(dialog.editor("name"), "Tried Out")
    with qtbot.waitSignal(dialog.saved, timeout=WAIT):
        dialog.buttons.accepted.emit()
    idle(qtbot, sample)
    assert rows(default_db_path()) == 0

    back = switch(
        qtbot, shell, lambda: qtbot.mouseClick(sample.leave_sample_button, Qt.MouseButton.LeftButton)
    )
    assert back.ctx.db.path == default_db_path().resolve()
    assert "Sample" not in back.windowTitle() and back.sync_button.isVisibleTo(back)
    assert back.contacts.list_stack.currentWidget() is back.contacts.empty

    again = switch(
        qtbot, shell, lambda: qtbot.mouseClick(back.contacts.demo_button, Qt.MouseButton.LeftButton)
    )
    qtbot.waitUntil(lambda: again.contacts.count.text() == "201 contacts", timeout=WAIT)  # kept, not refilled


def test_sample_data_never_goes_into_a_database_with_the_reps_records(tmp_path: Path) -> None:
    mine = tmp_path / "mine.sqlite"
    db = open_database(mine)
    with db.write() as s:
        contacts.create_contact(s, ContactInput("Real Person"))
    with pytest.raises(errors.SampleDataError, match="holds your own records"):
        prepare_sample(db)
    db.close()
    assert rows(mine) == 1


def test_the_demo_command_refuses_the_reps_database_and_marks_its_own(tmp_path: Path) -> None:
    mine = tmp_path / "mine.sqlite"
    db = open_database(mine)
    with db.write() as s:
        contacts.create_contact(s, ContactInput("Real Person"))
    db.close()
    env = {
        "RAPPORT_DATA_DIR": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin",
        "QT_QPA_PLATFORM": "offscreen",
    }
    refused = subprocess.run(
        [sys.executable, "main.py", "demo", "--db", str(mine), "--contacts", "10"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "holds your own records" in refused.stderr
    assert rows(mine) == 1
    made = subprocess.run(
        [sys.executable, "main.py", "demo", "--contacts", "10"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    assert "sample database" in made.stdout
    assert (tmp_path / "data" / "sample.sqlite").exists()


def test_a_sample_database_never_syncs(laptops: Callable[..., Laptop]) -> None:
    a, b = laptops("ann"), laptops("bob")
    prepare_sample(a.db)
    fill_demo(a.db, contacts=5, notes_per_contact=1)
    a.add(contact("Added while trying it out"))
    with pytest.raises(SampleDataNotSynced, match="never synced"):
        a.sync()
    b.sync()
    assert b.count() == 0  # nothing of it reached the server
    assert a.table("meta") == [("sample_data", "true")]  # no client id was registered either


def test_the_app_started_on_the_sample_database_goes_back_to_the_default_one(
    qtbot: QtBot, tmp_path: Path
) -> None:
    db = open_database(sample_db_path())
    prepare_sample(db)
    fill_demo(db, contacts=3, notes_per_contact=0)
    db.close()
    presenter = ErrorPresenter(log_file=Path("/tmp/rapport-test.log"))
    presenter.interactive = False
    app_shell = AppShell(sample_db_path(), presenter)
    window = app_shell.start()
    try:
        assert "Sample data" in window.windowTitle()
        back = switch(qtbot, app_shell, window.leave_sample)
        assert back.ctx.db.path == default_db_path().resolve()
    finally:
        app_shell.close()


def test_a_sample_file_that_cannot_be_opened_is_explained_and_the_rep_stays_put(
    qtbot: QtBot, shell: AppShell
) -> None:
    mine = own_window(qtbot, shell)
    sample_db_path().write_bytes(b"this is not a database" * 100)
    with qtbot.waitSignal(shell.presenter.error_shown, timeout=WAIT) as shown:
        qtbot.mouseClick(mine.contacts.demo_button, Qt.MouseButton.LeftButton)
    assert "damaged or is not a database" in shown.args[1]
    assert shell.window is mine and mine.isVisible()
    assert sample_db_path().read_bytes() == b"this is not a database" * 100  # left as it was
