"""Starting the desktop app: the Qt application, error hooks, the database, the window."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from models import errors
from models.backup import BackupInfo
from models.db import Database, needs_migration, open_database
from models.paths import default_db_path
from models.restore import RestoreResult, restore_backup
from models.sample import prepare_sample, sample_db_path
from ui.appearance import follow_appearance
from ui.branding import apply_branding
from ui.context import AppContext
from ui.errors import ErrorPresenter, install_excepthooks
from ui.first_run import FirstChoice, ask_first_start, is_first_start
from ui.main_window import MainWindow
from ui.settings import load_preferences

T = TypeVar("T")

# Set by bench/run.py: print how long until the contact list showed rows, then quit.
STARTUP_PROBE = "RAPPORT_STARTUP_PROBE"


class _Opened(QObject):
    finished = Signal()


def open_with_notice(path: Path) -> Database:
    """Open the database; when its schema must be updated first (backup, migration: seconds on a
    big file), do it in a thread behind a small window that says so, instead of showing nothing."""
    if not needs_migration(path):
        return open_database(path)
    return run_with_notice(
        "Updating your Rapport database…\nA backup copy is made first. This can take a minute.",
        lambda: open_database(path),
    )


def run_with_notice(text: str, work: Callable[[], T]) -> T:
    """Run ``work`` in a thread behind a small window that says what is happening (while there
    is no main window to show it in); its exception is raised here, on the GUI thread."""
    notice = QLabel(text)
    notice.setObjectName("migration_notice")
    notice.setWindowTitle("Rapport")
    notice.setMargin(24)
    notice.show()
    # Filled by the worker, read after it has joined.
    done: list[T] = []
    failure: list[BaseException] = []
    opened = _Opened()
    loop = QEventLoop()
    opened.finished.connect(loop.quit, Qt.ConnectionType.QueuedConnection)

    def run() -> None:
        try:
            done.append(work())
        except BaseException as exc:  # handed back to the GUI thread below
            failure.append(exc)
        finally:
            opened.finished.emit()

    worker = threading.Thread(target=run, name="with-notice")
    worker.start()
    loop.exec()
    worker.join()
    notice.close()
    if failure:
        raise failure[0]
    return done[0]


def build_window(db: Database, presenter: ErrorPresenter) -> MainWindow:
    ctx = AppContext(db, presenter)
    return MainWindow(ctx)


class AppShell(QObject):
    """The app's window, on the rep's own database or on the separate sample database.

    Switching is one action: the other file opens in a new window that takes the old one's
    place (and its size and page), and the old database is closed. Nothing is copied between
    the two files.
    """

    switched = Signal(object)  # the new MainWindow
    restored = Signal(object)  # RestoreResult, once the restored database is open

    def __init__(self, db_path: Path, presenter: ErrorPresenter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        self.start_path = db_path
        # "Back to my records" from a sample database the app was started on goes to the default.
        self.home = default_db_path() if _same_file(db_path, sample_db_path()) else db_path
        self.window: MainWindow | None = None

    def start(self, first: FirstChoice | None = None) -> MainWindow:
        """Open the database the app was started on (errors are the caller's to show).

        ``first``: what the rep chose on the first-start screen. Sample data opens the sample
        database instead (the rep's own is made when they go back to it); signing in opens the
        rep's own, empty database with the sign-in form over it.
        """
        if first is FirstChoice.SAMPLE:
            return self._open(sample_db_path(), sample=True)
        window = self._open(self.start_path, sample=False)
        if first is FirstChoice.SIGN_IN:
            window.sign_in()
        return window

    def switch(self, target: Path | None) -> None:
        """Open ``target`` (the sample database) or, with ``None``, the rep's own in place of
        the current window. If it cannot be opened, the rep is told and stays where they were."""
        try:
            self._open(target or self.home, sample=target is not None)
        except errors.RapportError as exc:
            self.presenter.present(exc, self.window)

    def restore(self, backup: BackupInfo, folder: Path) -> None:
        """Put ``backup`` in place of the open database and open it in a new window. The window
        is closed first (its sync stopped, its writes finished) and the file released; if the
        restore fails, the database as it was opens again and the rep is told why."""
        old = self.window
        if old is None:
            return
        path = old.ctx.db.path
        placeholder = QLabel("Restoring your Rapport database from the backup…")
        placeholder.setObjectName("restore_notice")
        placeholder.setMargin(24)
        placeholder.show()  # the application must not quit with its last window
        old.save_state()
        _retire(old)
        self.window = None
        try:
            result: RestoreResult | BaseException = run_with_notice(
                "Restoring your Rapport database from the backup…\nYour database as it was is saved first.",
                lambda: restore_backup(path, backup, folder),
            )
        except (errors.RapportError, OSError, sqlite3.Error) as exc:
            result = exc
        try:
            window = self._open(path, sample=False)
        finally:
            placeholder.close()
        if isinstance(result, BaseException):
            self.presenter.present(result, window)
            return
        kept = f" Your database as it was is kept as {result.safety_copy.name}." if result.safety_copy else ""
        window.statusBar().showMessage(
            f"Restored the backup made {backup.made:%d %b %Y %H:%M}.{kept}", 30_000
        )
        self.restored.emit(result)

    def close(self) -> None:
        if self.window is not None:
            _retire(self.window, later=False)
            self.window = None

    def _open(self, path: Path, *, sample: bool) -> MainWindow:
        db = open_with_notice(path)
        try:
            fill = prepare_sample(db) if sample else False
        except BaseException:
            db.close()
            raise
        old = self.window
        if old is not None:
            old.save_state()  # the new window opens with the same size, page and columns
        window = build_window(db, self.presenter)
        window.switch_requested.connect(self.switch)
        window.restore_requested.connect(self.restore)
        self.window = window
        window.show()
        window.start()
        if old is not None:
            _retire(old)
        if fill:
            window.fill_sample_data()
        self.switched.emit(window)
        return window


def _retire(window: MainWindow, *, later: bool = True) -> None:
    """Close a window for good: its timers and late signals may still fire until it is deleted,
    so its task runner takes no more jobs before its database is closed."""
    window.close()
    window.ctx.tasks.stop()
    window.ctx.db.close()
    if later:
        window.deleteLater()


def _same_file(a: Path, b: Path) -> bool:
    return a.expanduser().resolve() == b.expanduser().resolve()


def run_app(db_path: Path, log_file: Path | None = None) -> int:
    started = time.perf_counter()
    # instance() is typed as the core application; the one running here is a QApplication.
    running = QApplication.instance()
    app = running if isinstance(running, QApplication) else QApplication(sys.argv)
    apply_branding(app)  # name, icon and desktop entry for the window, task bar and launcher
    presenter = ErrorPresenter(log_file)
    install_excepthooks(presenter)
    follow_appearance(load_preferences().appearance)
    first = ask_first_start() if is_first_start(db_path) else None
    shell = AppShell(db_path, presenter)
    try:
        window = shell.start(first)
    except errors.DatabaseError as exc:
        QMessageBox.critical(None, exc.title, str(exc))
        print(f"rapport: {exc}", file=sys.stderr)
        return 2
    if os.environ.get(STARTUP_PROBE):

        def loaded() -> None:
            print(f"contacts-loaded {time.perf_counter() - started:.3f}", flush=True)
            QTimer.singleShot(0, window.close)

        window.contacts.model.loaded.connect(loaded)
    try:
        return int(app.exec())
    finally:
        shell.close()
