"""File › Back up now, the daily backup, File › Restore from backup… and the backup preferences,
driven through the real window and the real app shell."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from models.backup import DAILY, MANUAL, list_backups, make_backup
from models.entities import Contact
from models.paths import data_dir, default_db_path
from models.services.contacts import ContactInput, create_contact
from tests.support.gui_helpers import visible
from ui.app import AppShell
from ui.backups import RestoreDialog
from ui.errors import ErrorPresenter
from ui.main_window import MainWindow
from ui.preferences import PreferencesDialog
from ui.settings import load_preferences

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

WAIT = 20_000


@pytest.fixture
def shell(qtbot: QtBot) -> Iterator[AppShell]:
    presenter = ErrorPresenter(log_file=Path("/tmp/rapport-test.log"))
    presenter.interactive = False
    app_shell = AppShell(default_db_path(), presenter)
    app_shell.start()
    yield app_shell
    app_shell.close()


def _idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.ctx.tasks.pending == 0 and not window.contacts.model.busy, timeout=WAIT)


def _add(qtbot: QtBot, window: MainWindow, name: str) -> None:
    done: list[object] = []
    window.ctx.act(lambda s: create_contact(s, ContactInput(name=name)), done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT)


def _names(window: MainWindow) -> list[str]:
    with window.ctx.db.read() as s:
        return sorted(s.scalars(select(Contact.name)))


def test_back_up_now_makes_a_checked_backup_in_the_data_folder(qtbot: QtBot, shell: AppShell) -> None:
    window = shell.window
    assert window is not None
    _idle(qtbot, window)
    _add(qtbot, window, "Backed Up")
    with qtbot.waitSignal(window.backups.backed_up, timeout=WAIT) as done:
        window.backup_action.trigger()
    made = done.args[0].backup
    assert made.label == MANUAL and made.path.parent == data_dir()
    assert (
        "Backed up" in window.statusBar().currentMessage()
        and "checked" in window.statusBar().currentMessage()
    )
    assert [b.path for b in list_backups(window.ctx.db.path, [data_dir()])] == [made.path]


def test_the_daily_backup_runs_when_none_was_made_today_and_goes_to_the_chosen_folder(
    qtbot: QtBot, shell: AppShell, tmp_path: Path
) -> None:
    window = shell.window
    assert window is not None
    _idle(qtbot, window)
    chosen = tmp_path / "elsewhere"
    prefs = window.preferences.current
    from dataclasses import replace

    window.preferences.current = replace(prefs, backup_folder=str(chosen), backup_days=3)
    path = window.ctx.db.path
    old = make_backup(path, chosen, DAILY, now=datetime.now() - timedelta(days=5)).backup
    with qtbot.waitSignal(window.backups.backed_up, timeout=WAIT) as done:
        window.backups.timer.timeout.emit()  # the hourly look, now
    made = done.args[0].backup
    assert made.label == DAILY and made.path.parent == chosen
    assert not old.path.exists()  # older than the 3 days kept
    # Checked again within the day: nothing more to do.
    window.backups.timer.timeout.emit()
    _idle(qtbot, window)
    assert [b.path for b in list_backups(path, [chosen])] == [made.path]
    assert window.backups.timer.isActive()  # and it looks again in an hour


def test_restore_from_backup_asks_keeps_a_safety_copy_and_reopens_on_the_backup(
    qtbot: QtBot, shell: AppShell
) -> None:
    window = shell.window
    assert window is not None
    _idle(qtbot, window)
    _add(qtbot, window, "In the backup")
    with qtbot.waitSignal(window.backups.backed_up, timeout=WAIT):
        window.backup_action.trigger()
    _add(qtbot, window, "Made after the backup")

    window.restore_action.trigger()  # the list is read off the GUI thread
    qtbot.waitUntil(lambda: isinstance(getattr(window.backups, "dialog", None), RestoreDialog), timeout=WAIT)
    dialog = visible(RestoreDialog)
    assert dialog.table.topLevelItemCount() == 1
    item = dialog.table.topLevelItem(0)
    assert item is not None and item.text(0).startswith("Today, ") and item.text(1) == "Backed up by hand"
    assert item.text(2).endswith(("kB", "MB"))

    # The first answer is no: Enter keeps the database.
    dialog.restore_button.click()
    box = dialog.confirmation
    assert "taken out of this database" in box.text() and "kept first" in box.text()
    keep = box.defaultButton()
    assert keep is not None and keep.text() == "Keep my database"
    keep.click()
    assert shell.window is window and _names(window) == ["In the backup", "Made after the backup"]

    dialog.restore_button.click()
    restore = next(b for b in dialog.confirmation.buttons() if b.text() == "Restore")
    with qtbot.waitSignal(shell.restored, timeout=WAIT) as restored:
        restore.click()
    new = shell.window
    assert new is not None and new is not window
    _idle(qtbot, new)
    assert _names(new) == ["In the backup"]
    safety = restored.args[0].safety_copy
    assert safety is not None and safety.exists()
    assert "Restored the backup made" in new.statusBar().currentMessage()
    assert safety.name in new.statusBar().currentMessage()
    # The safety copy is itself in the list: the restore can be undone the same way.
    assert safety in [b.path for b in list_backups(new.ctx.db.path, [data_dir()])]


def test_backup_preferences_are_checked_and_saved(qtbot: QtBot, shell: AppShell, tmp_path: Path) -> None:
    window = shell.window
    assert window is not None
    _idle(qtbot, window)
    dialog = window.preferences.edit()
    assert isinstance(dialog, PreferencesDialog)
    assert dialog.backup_folder.text() == "" and dialog.backup_days.text() == "14"
    dialog.backup_folder.setText("relative/folder")
    dialog.backup_days.setText("0")
    dialog.submit()
    assert dialog.isVisible()
    assert not dialog.findChild(type(dialog.summary), "error_backup_days").isHidden()
    assert not dialog.findChild(type(dialog.summary), "error_backup_folder").isHidden()
    dialog.backup_folder.setText(str(tmp_path / "mine"))
    dialog.backup_days.setText("30")
    dialog.submit()
    assert not dialog.isVisible()
    saved = load_preferences()
    assert saved.backup_folder == str(tmp_path / "mine") and saved.backup_days == 30
    assert window.backups.folder() == tmp_path / "mine"


def test_a_backup_that_fails_its_check_is_removed_and_the_rep_is_told(qtbot: QtBot) -> None:
    import sqlite3

    from models.db import open_database

    path = default_db_path()
    db = open_database(path)
    with db.write() as s:
        for i in range(300):
            create_contact(s, ContactInput(name=f"Person {i:03}"))
    db.close()
    conn = sqlite3.connect(path)
    root = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'ix_contacts_name_nocase'"
    ).fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with path.open("r+b") as f:  # a damaged index page the app does not read at start
        f.seek((root - 1) * page_size + 8)
        f.write(b"\xff" * 64)
    presenter = ErrorPresenter(log_file=Path("/tmp/rapport-test.log"))
    presenter.interactive = False
    shown: list[tuple[str, str]] = []
    presenter.error_shown.connect(lambda title, message: shown.append((title, message)))
    shell = AppShell(path, presenter)
    shell.start()
    try:
        window = shell.window
        assert window is not None
        _idle(qtbot, window)
        window.backup_action.trigger()
        failed = "The backup failed its check"
        qtbot.waitUntil(lambda: any(title == failed for title, _ in shown), timeout=WAIT)
        _idle(qtbot, window)
        # (The list, reading the damaged index, has said the file is damaged too.)
        message = next(m for t, m in shown if t == failed)
        assert "was removed" in message and "may be damaged" in message
        assert list_backups(path, [data_dir()]) == []
        assert not [p for p in data_dir().iterdir() if ".partial" in p.name]
    finally:
        shell.close()
