"""File › Import contacts…: choose a file, map a CSV's columns if need be, preview, import, undo.

Reading, matching and writing run on workers (``TaskRunner.long`` for the file, the writer for
the import), with a progress dialog whose Cancel stops the reading; the GUI thread only shows
dialogs. Nothing is written before the rep presses Import in the preview.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLocale, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QFileDialog, QProgressDialog, QWidget

from models.changes import changed_entities
from models.services import contact_csv, importing
from models.services.import_file import Prepared, SourceFile, prepare, read_source
from models.services.importing import ImportPlan, ImportResult
from ui.context import AppContext
from ui.import_dialogs import ImportHistoryDialog, MappingDialog, PreviewDialog
from ui.plural import plural
from ui.undo import UndoOffer

FILE_FILTER = "Contacts (*.vcf *.vcard *.csv *.txt);;vCard (*.vcf *.vcard);;CSV (*.csv *.txt);;All files (*)"


def rep_region() -> str | None:
    """The country of the rep's locale, for phone numbers written without a country code."""
    code = QLocale().name().partition("_")[2]
    return code.upper() if len(code) == 2 and code.isalpha() else None


@dataclass(frozen=True)
class _Read:
    prepared: Prepared
    plan: ImportPlan | None  # None while a CSV waits for its mapping


def import_offer(result: ImportResult, name: str) -> UndoOffer:
    assert result.import_id is not None
    import_id = result.import_id
    return UndoOffer(
        ("import", import_id),
        f"import of “{name}”",
        lambda s: importing.undo_import(s, import_id),
        f"Imported {plural(result.created, 'new contact')} from {name}, {result.merged:,} filled in. "
        "Undo with Ctrl+Z.",
        f"Took back the import of {name}.",
    )


class _Relay(QObject):
    """Lives on the GUI thread; the worker's progress reaches the dialog through it (queued)."""

    advanced = Signal(int, int)


class ImportFlow(QObject):
    """One import, from the file dialog to the undo offer. ``finished`` says how it ended."""

    finished = Signal(str)  # "imported", "cancelled", "refused", "nothing"
    previewed = Signal(object)  # the PreviewDialog, once shown (tests drive it)
    mapping_asked = Signal(object)  # the MappingDialog
    imported = Signal(object)  # the ImportResult

    def __init__(
        self, ctx: AppContext, parent: QWidget, offer_undo: Callable[[UndoOffer], None] | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.parent_widget = parent
        self.offer_undo = offer_undo
        self.region = rep_region()
        self.cancel = threading.Event()
        self.relay = _Relay(self)
        self.relay.advanced.connect(self._on_advanced)
        self.progress: QProgressDialog | None = None
        self.source: SourceFile | None = None
        self.dialog: QDialog | None = None

    # -- steps ---------------------------------------------------------------------------------
    def choose(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self.parent_widget, "Import contacts", str(Path.home()), FILE_FILTER
        )
        if chosen:
            self.start(Path(chosen))
        else:
            self.finished.emit("cancelled")

    def start(self, path: Path, mapping: list[str] | None = None) -> None:
        self._show_progress(f"Reading {path.name}…", cancellable=True)
        db, region, cancel, relay = self.ctx.db, self.region, self.cancel, self.relay

        def work() -> _Read:
            source = read_source(path)
            with db.read() as s:
                prepared = prepare(source, s, mapping, relay.advanced.emit, cancel)
                if prepared.needs_mapping:
                    return _Read(prepared, None)
                relay.advanced.emit(-1, -1)  # matching: no figures to show
                return _Read(prepared, importing.plan_import(s, prepared.cards, prepared.skipped, region))

        self.ctx.tasks.long(work, self._on_read, self._on_failed)

    def _on_read(self, read: _Read) -> None:
        self._hide_progress()
        self.source = read.prepared.source
        if read.plan is None:
            self._ask_mapping(read.prepared)
        else:
            self._preview(read.prepared, read.plan)

    def _ask_mapping(self, prepared: Prepared) -> None:
        assert prepared.table is not None
        dialog = MappingDialog(
            prepared.source.name, prepared.table, prepared.mapping or [], self.parent_widget
        )
        self.dialog = dialog
        dialog.finished.connect(lambda code: self._on_mapped(prepared, dialog, code))
        dialog.open()
        self.mapping_asked.emit(dialog)

    def _on_mapped(self, prepared: Prepared, dialog: MappingDialog, code: int) -> None:
        if code != QDialog.DialogCode.Accepted:
            self.finished.emit("cancelled")
            return
        mapping = dialog.mapping()
        self._show_progress("Matching contacts…", cancellable=True)
        db, region, cancel = self.ctx.db, self.region, self.cancel

        def work() -> _Read:
            again = prepare(prepared.source, None, mapping, cancel=cancel)
            with db.read() as s:
                return _Read(again, importing.plan_import(s, again.cards, again.skipped, region))

        self.ctx.tasks.long(work, self._on_read, self._on_failed)

    def _preview(self, prepared: Prepared, plan: ImportPlan) -> None:
        dialog = PreviewDialog(prepared.source.name, prepared.format, plan, self.parent_widget)
        self.dialog = dialog
        dialog.finished.connect(lambda code: self._on_previewed(prepared, code))
        dialog.open()
        self.previewed.emit(dialog)

    def _on_previewed(self, prepared: Prepared, code: int) -> None:
        if code != QDialog.DialogCode.Accepted:
            self.finished.emit("cancelled")
            return
        self._show_progress(f"Importing {plural(len(prepared.cards), 'card')}…", cancellable=False)
        db, region = self.ctx.db, self.region

        def work() -> tuple[ImportResult, set[str]]:
            with db.write() as s:  # one transaction: all of it, or (on any error) nothing
                result = importing.apply_import(
                    s, prepared.cards, prepared.skipped, source=prepared.source.name, region=region
                )
                if prepared.format == "CSV" and prepared.table is not None and prepared.mapping:
                    contact_csv.remember_mapping(s, prepared.table.headers, prepared.mapping)
                return result, changed_entities(s)

        self.ctx.tasks.write(work, self._on_imported, self._on_failed)

    def _on_imported(self, out: tuple[ImportResult, set[str]]) -> None:
        result, entities = out
        self._hide_progress()
        self.ctx.bus.notify(entities)
        name = self.source.name if self.source is not None else "the file"
        if result.import_id is not None and self.offer_undo is not None:
            self.offer_undo(import_offer(result, name))
        self.imported.emit(result)
        self.finished.emit("imported" if result.import_id is not None else "nothing")

    def _on_failed(self, exc: BaseException) -> None:
        self._hide_progress()
        self.ctx.presenter.present(exc, self.parent_widget)  # Cancelled is silent there
        self.finished.emit("cancelled" if self.cancel.is_set() else "refused")

    # -- progress ------------------------------------------------------------------------------
    def _show_progress(self, text: str, *, cancellable: bool) -> None:
        self.cancel.clear()
        progress = QProgressDialog(text, "Cancel" if cancellable else "", 0, 0, self.parent_widget)
        progress.setObjectName("import_progress")
        progress.setWindowTitle("Import contacts")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)
        if not cancellable:
            progress.setCancelButton(None)  # documented: removes the button
        progress.canceled.connect(self.cancel.set)
        self.progress = progress

    def _hide_progress(self) -> None:
        if self.progress is not None:
            self.progress.canceled.disconnect(self.cancel.set)
            self.progress.reset()
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    @Slot(int, int)
    def _on_advanced(self, done: int, total: int) -> None:
        if self.progress is None:
            return
        if done < 0:
            self.progress.setRange(0, 0)
            self.progress.setLabelText("Matching against your contacts…")
        else:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)


def show_history(ctx: AppContext, parent: QWidget, undo: Callable[[uuid.UUID, str], None]) -> None:
    """Edit › Undo an import…: the imports made on this laptop; the chosen one is undone."""

    def chosen(rows: list[importing.ImportHistoryRow]) -> None:
        dialog = ImportHistoryDialog(rows, parent)

        def done(code: int) -> None:
            picked = dialog.chosen()
            if code == QDialog.DialogCode.Accepted and isinstance(picked, uuid.UUID):
                undo(picked, next(r.source for r in rows if r.id == picked))

        dialog.finished.connect(done)
        dialog.open()
        parent.setProperty("import_history", dialog)  # kept alive (and found by tests)

    ctx.query(importing.list_imports, chosen)
