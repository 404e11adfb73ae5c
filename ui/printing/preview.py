"""Print preview and "Save as PDF…" for briefing sheets, for the pages to call.

The database is read (and the HTML made) in a worker; the preview paints on the GUI thread,
because QPrintPreviewDialog asks for pages there. Saving a PDF renders in the worker too, with
a progress dialog that can cancel between sheets. Failures go to the app's one error presenter.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog, QPrintPreviewWidget
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QProgressDialog, QWidget
from shiboken6 import isValid

from models import errors
from models.db import Database
from models.services.briefing import BriefingSheet, contact_sheet, day_sheets, visit_sheet
from ui.context import AppContext
from ui.errors import describe
from ui.printing.fonts import font_warning, sheets_font_warning
from ui.printing.render import prepare_device, render_sheets, sheet_html, write_pdf

Loaded = tuple[list[BriefingSheet], list[str], str]  # sheets, their HTML, the font warning

# Jobs started without a parent widget would otherwise be garbage-collected (closing their
# dialog) as soon as the caller drops the returned object: hold them until they finish.
_running: set[QObject] = set()


def load_sheets(
    db: Database,
    *,
    contact_id: uuid.UUID | None = None,
    visit_id: uuid.UUID | None = None,
    day: date | None = None,
) -> list[BriefingSheet]:
    """The sheets asked for (worker thread). A day without visits is an error the rep can read."""
    with db.read() as s:
        if contact_id is not None:
            return [contact_sheet(s, contact_id)]
        if visit_id is not None:
            return [visit_sheet(s, visit_id)]
        if day is not None:
            sheets = day_sheets(s, day)
            if not sheets:
                raise errors.NotFoundError(f"There are no visits planned on {day:%A %d %B %Y}.")
            return sheets
    raise ValueError("say which contact, visit or day to print")


def _describe(sheets: list[BriefingSheet]) -> str:
    return f"Briefing – {sheets[0].title}" if len(sheets) == 1 else f"Briefings – {len(sheets)} visits"


class BriefingPreview(QObject):
    """Loads the sheets in a worker, then opens a print preview (paper print goes from there)."""

    opened = Signal(object)  # the QPrintPreviewDialog, once it is shown
    failed = Signal(str)  # what the presenter said; empty when cancelled
    warned = Signal(str)  # text no installed font can draw (shown in a box over the preview)

    def __init__(self, ctx: AppContext, parent: QWidget | None, paper: str | None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._parent_widget = parent
        self._paper = paper
        self._sheets: list[BriefingSheet] = []
        self._html: list[str] = []
        self.dialog: QPrintPreviewDialog | None = None
        self.printer: QPrinter | None = None
        self.warning_box: QMessageBox | None = None

    def on_loaded(self, loaded: Loaded) -> None:
        if self._parent_widget is not None and not isValid(self._parent_widget):
            _running.discard(self)  # the window asking for it closed meanwhile
            return
        self._sheets, self._html, warning = loaded
        self.printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        self.printer.setFullPage(True)  # the renderer places its own margins from the paper's edge
        self.printer.setDocName(_describe(self._sheets))
        prepare_device(self.printer, self._paper)
        dialog = QPrintPreviewDialog(self.printer, self._parent_widget)
        dialog.setWindowTitle(_describe(self._sheets))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.paintRequested.connect(self._on_paint_requested)
        dialog.finished.connect(self._on_closed)
        self.dialog = dialog
        _readable(dialog)
        dialog.open()
        self.opened.emit(dialog)
        if warning:
            self.warning_box = _warn(dialog, warning)
            self.warned.emit(warning)

    @Slot(QPrinter)
    def _on_paint_requested(self, printer: QPrinter) -> None:
        render_sheets(self._sheets, printer, html=self._html)

    def _on_closed(self, _result: int) -> None:
        _running.discard(self)
        self.deleteLater()

    def on_error(self, exc: BaseException) -> None:
        _report(self._ctx, self._parent_widget, exc, self.failed.emit)
        _running.discard(self)
        self.deleteLater()


def _warn(parent: QWidget | None, message: str) -> QMessageBox:
    """A box the rep sees before printing, without blocking the preview behind it."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, "Briefing: missing font", message, QMessageBox.StandardButton.Ok, parent
    )
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def _readable(dialog: QPrintPreviewDialog) -> None:
    """Open the preview large and at the page's width: the whole-page default showed a sheet
    at 38 % on a laptop, too small to read."""
    free = dialog.screen().availableGeometry()
    dialog.resize(min(1000, free.width() - 40), free.height() - 60)
    # Through the dialog's own "Fit width" button when it can be found, so the toolbar shows
    # the mode in use; the widget directly otherwise (a translated Qt names it differently).
    fit_width = [a for a in dialog.findChildren(QAction) if a.text() == "Fit width"]
    if fit_width:
        fit_width[0].trigger()
    elif (widget := dialog.findChild(QPrintPreviewWidget)) is not None:
        widget.fitToWidth()


def _report(ctx: AppContext, parent: QWidget | None, exc: BaseException, emit: Callable[[str], None]) -> None:
    """Tell the listeners, then the rep, through the one presenter: a bug is logged with its
    traceback and shown with the log's place, a cancellation is silent."""
    emit("" if isinstance(exc, errors.Cancelled) else describe(exc)[1])
    ctx.presenter.present(exc, parent if parent is not None and isValid(parent) else None)


def show_briefing_preview(
    parent: QWidget | None,
    ctx: AppContext,
    *,
    contact_id: uuid.UUID | None = None,
    visit_id: uuid.UUID | None = None,
    day: date | None = None,
    paper: str | None = None,
) -> BriefingPreview:
    """Open a print preview of a contact's, a visit's or a day's briefing sheets.

    Returns at once; the preview opens when the sheets are loaded (``opened`` fires).
    """
    preview = BriefingPreview(ctx, parent, paper)
    _running.add(preview)

    def load() -> Loaded:
        sheets = load_sheets(ctx.db, contact_id=contact_id, visit_id=visit_id, day=day)
        html = [sheet_html(s) for s in sheets]
        return sheets, html, sheets_font_warning(sheets, html)

    ctx.tasks.read(load, preview.on_loaded, preview.on_error)
    return preview


class _ProgressRelay(QObject):
    """Lives on the GUI thread; the worker emits, Qt queues the call to the progress dialog."""

    advanced = Signal(int, int)


class BriefingExport(QObject):
    """A PDF being written in a worker, with a cancellable progress dialog."""

    saved = Signal(str, int)  # path, pages
    failed = Signal(str)  # the message shown; empty when the rep cancelled
    warned = Signal(str)  # saved, but text no installed font can draw came out blank

    def __init__(self, ctx: AppContext, parent: QWidget | None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._parent_widget = parent
        self.cancel_event = threading.Event()
        self.relay = _ProgressRelay(self)
        self.progress = QProgressDialog("Preparing the briefing sheets…", "Cancel", 0, 0, parent)
        self.progress.setWindowTitle("Save as PDF")
        self.progress.setMinimumDuration(400)  # a single sheet is done before the dialog would show
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.canceled.connect(self.cancel_event.set)
        self.relay.advanced.connect(self._on_advanced)
        self.warning_box: QMessageBox | None = None

    @Slot(int, int)
    def _on_advanced(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.progress.setLabelText(f"Sheet {done} of {total}…")

    def on_done(self, result: tuple[str, int, str]) -> None:
        path, pages, warning = result
        self._finish()
        window = self._parent_widget.window() if self._parent_widget is not None else None
        if isinstance(window, QMainWindow) and isValid(window):  # say where it went
            what = "1 page" if pages == 1 else f"{pages:,} pages"
            window.statusBar().showMessage(f"Saved the briefing ({what}) as {path}", 15_000)
        if warning:
            self.warning_box = _warn(self._parent_widget, warning)
            self.warned.emit(warning)
        self.saved.emit(path, pages)

    def on_error(self, exc: BaseException) -> None:
        self._finish()
        _report(self._ctx, self._parent_widget, exc, self.failed.emit)

    def _finish(self) -> None:
        self.progress.reset()
        self.progress.close()
        self.progress.deleteLater()
        _running.discard(self)
        self.deleteLater()


def save_briefing_pdf(
    parent: QWidget | None,
    ctx: AppContext,
    *,
    contact_id: uuid.UUID | None = None,
    visit_id: uuid.UUID | None = None,
    day: date | None = None,
    paper: str | None = None,
    path: Path | str | None = None,
) -> BriefingExport | None:
    """Ask where to save (unless ``path`` is given), then write the PDF in a worker.

    Returns ``None`` if the rep closed the file dialog.
    """
    if path is None:
        suggested = f"briefing-{day.isoformat()}.pdf" if day else "briefing.pdf"
        chosen, _ = QFileDialog.getSaveFileName(
            parent, "Save briefing as PDF", suggested, "PDF files (*.pdf)"
        )
        if not chosen:
            return None
        path = chosen if chosen.lower().endswith(".pdf") else chosen + ".pdf"
    target = Path(path)
    export = BriefingExport(ctx, parent)
    _running.add(export)

    def work() -> tuple[str, int, str]:
        sheets = load_sheets(ctx.db, contact_id=contact_id, visit_id=visit_id, day=day)
        export.relay.advanced.emit(0, len(sheets))
        missing: list[set[str]] = []
        pages = write_pdf(
            sheets,
            target,
            paper=paper,
            progress=export.relay.advanced.emit,
            cancel=export.cancel_event,
            missing=missing,
        )
        return str(target), pages, font_warning(sheets, missing)

    ctx.tasks.read(work, export.on_done, export.on_error)
    return export
