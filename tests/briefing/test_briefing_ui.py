"""The briefing preview and the PDF export, driven through pytest-qt."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PySide6.QtPrintSupport import QPrintPreviewDialog, QPrintPreviewWidget
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from models.db import Database
from tests.support.briefing_data import TODAY, flat, pdf_pages, sample
from ui.context import AppContext
from ui.printing.preview import save_briefing_pdf, show_briefing_preview


@pytest.fixture
def ids(db: Database) -> dict[str, uuid.UUID]:
    return sample(db)


def test_preview_dialog_shows_a_days_sheets(qtbot: QtBot, ctx: AppContext, ids: dict[str, uuid.UUID]) -> None:
    preview = show_briefing_preview(None, ctx, day=TODAY, paper="A4")
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


def test_preview_of_an_empty_day_explains(
    qtbot: QtBot, ctx: AppContext, shown_errors: list[tuple[str, str]]
) -> None:
    preview = show_briefing_preview(None, ctx, day=TODAY)
    with qtbot.waitSignal(preview.failed, timeout=10_000) as failed:
        pass
    assert "no visits planned" in failed.args[0]
    # Said by the app's one presenter, as written (the rep can act on it): no log, no second box.
    assert shown_errors == [("Not found", failed.args[0])]
    shown_errors.clear()


def _boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


@pytest.mark.parametrize("action", ["preview", "pdf"])
def test_a_bug_in_a_briefing_is_shown_once_by_the_presenter_with_the_logs_place(
    qtbot: QtBot, ctx: AppContext, shown_errors: list[tuple[str, str]], tmp_path: Path, action: str
) -> None:
    # Asked for neither a contact, a visit nor a day: load_sheets raises a ValueError, a bug.
    job = (
        show_briefing_preview(None, ctx)
        if action == "preview"
        else save_briefing_pdf(None, ctx, path=tmp_path / "none.pdf")
    )
    assert job is not None
    with qtbot.waitSignal(job.failed, timeout=10_000):
        pass
    (shown,) = shown_errors
    assert shown[0] == "Rapport hit an unexpected problem"
    assert str(ctx.presenter.log_file) in shown[1]  # where the traceback went
    assert _boxes() == []  # no box of the preview's own beside the presenter's
    shown_errors.clear()


def test_save_as_pdf_renders_in_a_worker(
    qtbot: QtBot, ctx: AppContext, ids: dict[str, uuid.UUID], tmp_path: Path
) -> None:
    out = tmp_path / "day.pdf"
    export = save_briefing_pdf(None, ctx, day=TODAY, path=out)
    assert export is not None
    with qtbot.waitSignal(export.saved, timeout=20_000) as saved:
        pass
    assert saved.args[0] == str(out) and saved.args[1] >= 3
    assert flat("Christmas volumes") in "".join(pdf_pages(out))
