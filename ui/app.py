"""Starting the desktop app: the Qt application, error hooks, the database, the window."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from models import errors
from models.db import Database, needs_migration, open_database
from ui.context import AppContext
from ui.errors import ErrorPresenter, install_excepthooks
from ui.main_window import MainWindow

# Set by bench/run.py: print how long until the contact list showed rows, then quit.
STARTUP_PROBE = "RAPPORT_STARTUP_PROBE"


class _Opened(QObject):
    finished = Signal()


def open_with_notice(path: Path) -> Database:
    """Open the database; when its schema must be updated first (backup, migration: seconds on a
    big file), do it in a thread behind a small window that says so, instead of showing nothing."""
    if not needs_migration(path):
        return open_database(path)
    notice = QLabel("Updating your Rapport database…\nA backup copy is made first. This can take a minute.")
    notice.setObjectName("migration_notice")
    notice.setWindowTitle("Rapport")
    notice.setMargin(24)
    notice.show()
    outcome: dict[str, object] = {}
    opened = _Opened()
    loop = QEventLoop()
    opened.finished.connect(loop.quit, Qt.ConnectionType.QueuedConnection)

    def work() -> None:
        try:
            outcome["db"] = open_database(path)
        except BaseException as exc:  # handed back to the GUI thread below
            outcome["error"] = exc
        finally:
            opened.finished.emit()

    worker = threading.Thread(target=work, name="open-database")
    worker.start()
    loop.exec()
    worker.join()
    notice.close()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    db = outcome["db"]
    assert isinstance(db, Database)
    return db


def build_window(db: Database, presenter: ErrorPresenter) -> MainWindow:
    ctx = AppContext(db, presenter)
    return MainWindow(ctx)


def run_app(db_path: Path, log_file: Path | None = None) -> int:
    started = time.perf_counter()
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Rapport")
    app.setOrganizationName("Rapport")
    presenter = ErrorPresenter(log_file)
    install_excepthooks(presenter)
    try:
        db = open_with_notice(db_path)
    except errors.DatabaseError as exc:
        QMessageBox.critical(None, exc.title, str(exc))
        print(f"rapport: {exc}", file=sys.stderr)
        return 2
    window = build_window(db, presenter)
    if os.environ.get(STARTUP_PROBE):

        def loaded() -> None:
            print(f"contacts-loaded {time.perf_counter() - started:.3f}", flush=True)
            QTimer.singleShot(0, window.close)

        window.contacts.model.loaded.connect(loaded)
    window.show()
    window.start()
    try:
        return int(app.exec())
    finally:
        db.close()
