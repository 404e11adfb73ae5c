"""File › Back up now, File › Restore from backup…, and the daily backup while the app runs.

The copying and checking are ``models.backup``'s and run on the task runner's background lane
(never on the GUI thread; at low priority, and beside a sync rather than in front of it).
Restoring replaces the open file, so the window asks the app shell (``ui/app.py``) to close it,
restore, and open the restored database in a new window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from models.backup import DAILY, MANUAL, BackupInfo, BackupResult, backup_due, list_backups, make_backup
from models.paths import data_dir

if TYPE_CHECKING:
    from ui.main_window import MainWindow

# The first look 2 minutes after start (the lists load first), then hourly: "once a day while
# the app runs" holds for a laptop that is never closed, and costs one folder listing an hour.
FIRST_CHECK_MS = 2 * 60_000
CHECK_EVERY_MS = 60 * 60_000


def size_text(size: int) -> str:
    for unit, step in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= step:
            return f"{size / step:,.1f} {unit}"
    return f"{size} bytes"


def when_text(made: datetime, now: datetime | None = None) -> str:
    today = (now or datetime.now()).date()
    day = made.date()
    if day == today:
        prefix = "Today"
    elif day == today - timedelta(days=1):
        prefix = "Yesterday"
    else:
        prefix = made.strftime("%a %d %b %Y")
    return f"{prefix}, {made:%H:%M}"


def _in_sentence(when: str) -> str:
    return when.replace("Today", "today").replace("Yesterday", "yesterday")


class RestoreDialog(QDialog):
    """The backups of this database, newest first, with their dates, kinds and sizes; Restore
    asks once more, in words, before anything happens."""

    restore_chosen = Signal(object)  # the BackupInfo, after the rep confirmed

    def __init__(self, db_path: Path, backups: list[BackupInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("restore_dialog")
        self.setWindowTitle("Restore from backup")
        self.setMinimumWidth(640)
        self.db_path = db_path
        self.backups = backups
        intro = QLabel(
            "Choose the backup to go back to. Your database as it is now is saved as a backup "
            "first, so this can be undone the same way."
        )
        intro.setWordWrap(True)
        self.table = QTreeWidget()
        self.table.setObjectName("backup_list")
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(["Made", "Kind", "Size", "Folder"])
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAllColumnsShowFocus(True)
        for b in backups:
            item = QTreeWidgetItem([when_text(b.made), b.kind, size_text(b.size), str(b.path.parent)])
            item.setToolTip(0, b.path.name)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.addTopLevelItem(item)
        for col in range(3):
            self.table.resizeColumnToContents(col)
        self.empty = QLabel("There are no backups of this database yet. File › Back up now makes one.")
        self.empty.setWordWrap(True)
        self.empty.setVisible(not backups)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.restore_button = self.buttons.addButton("&Restore…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.restore_button.setEnabled(bool(backups))
        self.buttons.accepted.connect(self.confirm)
        self.buttons.rejected.connect(self.reject)
        self.table.itemActivated.connect(lambda _item, _col: self.confirm())
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.buttons)
        first = self.table.topLevelItem(0)
        if first is not None:
            self.table.setCurrentItem(first)
        self.table.setFocus()

    def chosen(self) -> BackupInfo | None:
        item = self.table.currentItem()
        row = self.table.indexOfTopLevelItem(item) if item is not None else -1
        return self.backups[row] if 0 <= row < len(self.backups) else None

    def confirmation_text(self, backup: BackupInfo) -> str:
        return (
            f"Go back to the backup made {_in_sentence(when_text(backup.made))}?\n\n"
            "Everything you did in Rapport since then is taken out of this database: a copy of it "
            "as it is now is kept first, as a backup you can restore.\n\n"
            "If you sync with a team server, what you synced since the backup comes back at the "
            "next sync, and what the backup holds that the server lacks is sent. Changes made "
            "since the backup that were never synced stay only in that copy.\n\n"
            "Rapport closes this window and opens the restored database."
        )

    def confirm(self) -> None:
        backup = self.chosen()
        if backup is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Restore from backup", self.confirmation_text(backup), parent=self
        )
        box.setObjectName("restore_confirmation")
        restore = box.addButton("Restore", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep my database", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)  # Enter on a dialog that replaces the database keeps it
        box.setEscapeButton(keep)

        def answered() -> None:
            if box.clickedButton() is restore:
                self.accept()
                self.restore_chosen.emit(backup)

        box.finished.connect(lambda _r: answered())
        self.confirmation = box
        box.open()


class WindowBackups(QObject):
    """The window's side of backups: the menu's actions and the daily timer."""

    backed_up = Signal(object)  # BackupResult (tests, the status bar)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.running = False
        self._failed_at: datetime | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._on_check)

    def folder(self) -> Path:
        return self.window.preferences.current.backups()

    def start(self) -> None:
        if not self.window.sample:  # sample data is not the rep's: nothing to keep
            self.timer.start(FIRST_CHECK_MS)

    def stop(self) -> None:
        self.timer.stop()

    def _on_check(self) -> None:
        self.timer.start(CHECK_EVERY_MS)
        if self._failed_at is not None and datetime.now() - self._failed_at < timedelta(days=1):
            return  # told once; tried again tomorrow, not every hour
        path, folder = self.window.ctx.db.path, self.folder()
        self.window.ctx.tasks.read(
            lambda: backup_due(path, folder), lambda due: self.back_up(DAILY) if due else None
        )

    def back_up(self, label: str = MANUAL) -> None:
        if self.running or self.window.sample:
            return
        self.running = True
        path, folder = self.window.ctx.db.path, self.folder()
        days = self.window.preferences.current.backup_days
        if label == MANUAL:
            self.window.statusBar().showMessage("Backing up…")
        self.window.ctx.tasks.background(
            lambda: make_backup(path, folder, label, keep_days=days), self._on_done, self._on_failed
        )

    def _on_done(self, result: BackupResult) -> None:
        self.running = False
        self._failed_at = None
        b = result.backup
        self.window.statusBar().showMessage(
            f"Backed up ({size_text(b.size)}, checked) to {b.path.parent}", 10_000
        )
        self.backed_up.emit(result)

    def _on_failed(self, exc: BaseException) -> None:
        self.running = False
        self._failed_at = datetime.now()
        self.window.statusBar().clearMessage()
        self.window.ctx.presenter.present(exc, self.window)

    def choose_restore(self) -> None:
        """List the backups (off the GUI thread: a folder on a network drive can be slow)."""
        path = self.window.ctx.db.path
        folders = [self.folder(), path.parent, data_dir()]
        self.window.ctx.tasks.read(lambda: list_backups(path, folders), self._show_restore)

    def _show_restore(self, backups: list[BackupInfo]) -> None:
        dialog = RestoreDialog(self.window.ctx.db.path, backups, self.window)
        dialog.restore_chosen.connect(lambda b: self.window.restore_requested.emit(b, self.folder()))
        self.dialog = dialog
        dialog.open()
