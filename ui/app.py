"""Starting the desktop app: the Qt application, error hooks, the database, the window."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from models import errors
from models.db import Database, open_database
from ui.context import AppContext
from ui.errors import ErrorPresenter, install_excepthooks
from ui.main_window import MainWindow

# Set by bench/run.py: print how long until the contact list showed rows, then quit.
STARTUP_PROBE = "RAPPORT_STARTUP_PROBE"


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
        db = open_database(db_path)
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
