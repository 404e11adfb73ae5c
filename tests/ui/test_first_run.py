"""The first start asks what the rep wants (issue 14): each answer, given with the keyboard alone
on the real screen, opens what it says, and the screen is not shown again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from models.db import open_database
from models.paths import default_db_path, sample_db_path
from models.sample import has_records, is_sample
from tests.support.gui_helpers import visible
from ui.app import AppShell
from ui.errors import ErrorPresenter
from ui.first_run import FirstChoice, FirstRunDialog, ask_first_start, is_first_start
from ui.main_window import MainWindow
from ui.sync_views import SignInDialog

WAIT = 20_000
Key = Qt.Key


@pytest.fixture
def shell(presenter: ErrorPresenter) -> Iterator[AppShell]:
    app_shell = AppShell(default_db_path(), presenter)
    yield app_shell
    if app_shell.window is not None:
        app_shell.window.ctx.tasks.wait_idle()
    app_shell.close()


def answer_with_keys(qtbot: QtBot, keys: list[Qt.Key]) -> FirstChoice:
    """Open the first-start screen as the app does (modal) and press ``keys`` in it."""
    pressed: list[str] = []

    def press() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, FirstRunDialog):
            QTimer.singleShot(20, press)
            return
        for key in keys:
            focused = dialog.focusWidget()
            assert focused is not None
            pressed.append(focused.objectName())
            qtbot.keyClick(focused, key)

    QTimer.singleShot(0, press)
    choice = ask_first_start()
    assert pressed, "the first-start screen never showed"
    return choice


def idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.ctx.tasks.pending == 0 and not window.contacts.model.busy, timeout=WAIT)


def test_sign_in_opens_the_reps_own_database_with_the_sign_in_form(
    qtbot: QtBot, shell: AppShell, tmp_path: Path
) -> None:
    assert is_first_start(default_db_path())
    choice = answer_with_keys(qtbot, [Key.Key_Return])  # the first answer has the focus
    assert choice is FirstChoice.SIGN_IN
    window = shell.start(choice)
    idle(qtbot, window)
    assert not window.sample and window.ctx.db.path == default_db_path()
    form = visible(SignInDialog)
    assert form.parent() is window
    form.reject()
    assert not is_first_start(default_db_path())


def test_try_with_sample_data_opens_the_sample_database(qtbot: QtBot, shell: AppShell) -> None:
    choice = answer_with_keys(qtbot, [Key.Key_Tab, Key.Key_Space])
    assert choice is FirstChoice.SAMPLE
    window = shell.start(choice)
    assert window.sample and window.ctx.db.path == sample_db_path()
    qtbot.waitUntil(lambda: window.contacts.model.rowCount() > 0, timeout=WAIT)
    idle(qtbot, window)
    assert not default_db_path().exists()  # the rep's own is made only when they go back to it
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, SignInDialog) and w.isVisible()]
    # Answered once: the next start opens the rep's own database without asking again.
    assert not is_first_start(default_db_path())


def test_start_empty_opens_an_empty_database_of_the_reps_own(qtbot: QtBot, shell: AppShell) -> None:
    choice = answer_with_keys(qtbot, [Key.Key_Tab, Key.Key_Tab, Key.Key_Return])
    assert choice is FirstChoice.EMPTY
    window = shell.start(choice)
    idle(qtbot, window)
    assert not window.sample and window.ctx.db.path == default_db_path()
    assert window.contacts.model.rowCount() == 0
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, SignInDialog) and w.isVisible()]
    window.close()
    window.ctx.tasks.wait_idle()
    db = open_database(default_db_path(), backup=False)
    try:
        with db.read() as s:
            assert not has_records(s) and not is_sample(s)  # a real database, and empty
    finally:
        db.close()
    assert not is_first_start(default_db_path())


def test_escape_starts_empty_and_is_remembered(qtbot: QtBot) -> None:
    assert answer_with_keys(qtbot, [Key.Key_Escape]) is FirstChoice.EMPTY
    assert not is_first_start(default_db_path())


def test_an_existing_database_is_never_asked_about(tmp_path: Path) -> None:
    path = tmp_path / "mine.sqlite"
    path.write_bytes(b"")
    assert not is_first_start(path)


def test_the_app_asks_on_its_first_start_only(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """run_app itself: the screen comes before any window, and its answer decides the window."""
    import sys
    import threading

    from ui.app import run_app

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    asked: list[str] = []

    def answer_then_close() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, FirstRunDialog):
            asked.append(dialog.windowTitle())
            qtbot.keyClick(dialog.focusWidget(), Key.Key_Tab)
            qtbot.keyClick(dialog.focusWidget(), Key.Key_Space)  # try with sample data
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        w = windows[0] if windows else None
        loaded = w is not None and not w.ctx.tasks.pending and not w.contacts.model.busy
        if w is not None and loaded and w.contacts.model.rowCount() >= w.sample:  # sample: filled
            w.close()  # the last window: the app's event loop ends
        else:
            QTimer.singleShot(50, answer_then_close)

    QTimer.singleShot(0, answer_then_close)
    assert run_app(default_db_path()) == 0
    assert asked == ["Welcome to Rapport"]
    assert sample_db_path().exists() and not default_db_path().exists()

    asked.clear()
    QTimer.singleShot(0, answer_then_close)
    assert run_app(default_db_path()) == 0  # the second start opens the rep's own, empty, unasked
    assert asked == [] and default_db_path().exists()
