"""Starting the app: a bad database file gets a clear dialog and is left alone; stray exceptions
are logged to the user's log folder and shown with the log's location."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from main import setup_logging
from ui.app import run_app
from ui.errors import ErrorPresenter, install_excepthooks


@pytest.fixture
def restore_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)


def test_corrupt_database_gets_a_dialog_and_is_not_touched(
    qtbot: QtBot, tmp_path: Path, restore_hooks: None
) -> None:
    path = tmp_path / "broken.sqlite"
    junk = b"SQLite format 3\x00" + b"\x17" * 4000
    path.write_bytes(junk)
    seen: list[str] = []

    def close_box() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.accept()
        else:
            QTimer.singleShot(50, close_box)

    QTimer.singleShot(50, close_box)
    assert run_app(path) == 2
    assert seen and "damaged or is not a database" in seen[0]
    assert path.read_bytes() == junk
    assert [p.name for p in tmp_path.iterdir()] == ["broken.sqlite"]  # no -wal, -shm or backup


def test_uncaught_exceptions_are_logged_and_shown(qtbot: QtBot, restore_hooks: None) -> None:
    log_file = setup_logging()
    presenter = ErrorPresenter(log_file)
    presenter.interactive = False
    install_excepthooks(presenter)
    try:
        raise ValueError("a bug in a slot")
    except ValueError as exc:
        with qtbot.waitSignal(presenter.error_shown, timeout=2000) as signal:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    assert str(log_file) in signal.args[1]

    def worker() -> None:
        raise KeyError("a bug in a thread")

    with qtbot.waitSignal(presenter.error_shown, timeout=2000):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    for handler in __import__("logging").getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "ValueError: a bug in a slot" in text
    assert "KeyError: 'a bug in a thread'" in text


def test_an_older_database_is_updated_behind_a_notice(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import create_engine

    import ui.app
    from models.db import APPLICATION_ID
    from models.migrate import head_revision, upgrade

    path = tmp_path / "old.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        upgrade(conn, "0002")
        conn.commit()
    engine.dispose()
    shown: list[str] = []

    class SpyLabel(QLabel):
        def show(self) -> None:
            shown.append(self.text())
            super().show()

    monkeypatch.setattr(ui.app, "QLabel", SpyLabel)
    db = ui.app.open_with_notice(path)
    try:
        with db.read_engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head_revision()
    finally:
        db.close()
    assert shown and shown[0].startswith("Updating your Rapport database")
    assert len(list(tmp_path.glob("old.backup-0002-*"))) == 1
    assert ui.app.needs_migration(path) is False
