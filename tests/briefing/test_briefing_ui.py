"""The briefing preview and the PDF export, driven through pytest-qt."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtPrintSupport import QPrintPreviewDialog, QPrintPreviewWidget
from pytestqt.qtbot import QtBot

from models.db import Database
from tests.support.briefing_data import TODAY, flat, pdf_pages, sample
from ui.printing.preview import save_briefing_pdf, show_briefing_preview
from ui.tasks import TaskRunner


@pytest.fixture
def unhandled() -> list[BaseException]:
    return []


@pytest.fixture
def tasks(qapp: object, unhandled: list[BaseException]) -> Iterator[TaskRunner]:
    runner = TaskRunner(unhandled.append)
    yield runner
    assert runner.wait_idle(10_000)
    assert unhandled == []
    runner.deleteLater()


@pytest.fixture
def ids(db: Database) -> dict[str, uuid.UUID]:
    return sample(db)


def test_preview_dialog_shows_a_days_sheets(
    qtbot: QtBot, db: Database, tasks: TaskRunner, ids: dict[str, uuid.UUID]
) -> None:
    preview = show_briefing_preview(None, db, tasks, day=TODAY, paper="A4")
    with qtbot.waitSignal(preview.opened, timeout=10_000) as opened:
        pass
    dialog = opened.args[0]
    assert isinstance(dialog, QPrintPreviewDialog)
    qtbot.waitUntil(dialog.isVisible)
    widget = dialog.findChild(QPrintPreviewWidget)
    assert widget is not None
    widget.updatePreview()  # paints now: the dialog otherwise paints on its first show event
    assert widget.pageCount() >= 3  # one sheet per visit, at least a page each
    dialog.close()


def test_preview_of_an_empty_day_explains(qtbot: QtBot, db: Database, tasks: TaskRunner) -> None:
    preview = show_briefing_preview(None, db, tasks, day=TODAY)
    with qtbot.waitSignal(preview.failed, timeout=10_000) as failed:
        pass
    assert "no visits planned" in failed.args[0]
    for box in qtbot_top_level_boxes():
        box.close()


def qtbot_top_level_boxes() -> list:
    from PySide6.QtWidgets import QApplication, QMessageBox

    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]


def test_save_as_pdf_renders_in_a_worker(
    qtbot: QtBot, db: Database, tasks: TaskRunner, ids: dict[str, uuid.UUID], tmp_path: Path
) -> None:
    out = tmp_path / "day.pdf"
    export = save_briefing_pdf(None, db, tasks, day=TODAY, path=out)
    assert export is not None
    with qtbot.waitSignal(export.saved, timeout=20_000) as saved:
        pass
    assert saved.args[0] == str(out) and saved.args[1] >= 3
    assert flat("Christmas volumes") in "".join(pdf_pages(out))
