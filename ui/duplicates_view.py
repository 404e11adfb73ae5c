"""Find duplicates…: the likely pairs, strongest first, and Merge… on the one selected.

The search runs in the task runner (a few seconds on 100,000 contacts); merged pairs leave the
list at once, without searching again.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from shiboken6 import isValid

from models.services import duplicates
from models.services.duplicates import DuplicatePair
from models.services.merging import Merged
from ui.context import AppContext
from ui.merge_dialog import MergeDialog
from ui.plural import plural
from ui.table import Column, RowsModel, make_table, on_selection, selected_row

# Pairs listed at most (the finder ranks them all; a list longer than this helps nobody).
LISTED = 5000


class DuplicatesDialog(QDialog):
    merged = Signal(object)  # merging.Merged, for the window's Undo
    contact_open_requested = Signal(object)  # uuid.UUID

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Find duplicates")
        self.model = RowsModel[DuplicatePair](
            [
                Column("Contact", lambda p: p.first_name, width=200),
                Column("Probably the same as", lambda p: p.second_name, width=200),
                Column("At", lambda p: p.account_name, width=160),
                Column("Why", lambda p: "; ".join(p.reasons), width=260),
            ],
            self,
        )
        self.table = make_table(self.model, name="duplicates_table")
        self.table.doubleClicked.connect(lambda _index: self.merge_selected())
        self.status = QLabel("Looking for duplicates…")
        self.status.setWordWrap(True)
        self.merge_button = QPushButton("&Merge…")
        self.merge_button.clicked.connect(self.merge_selected)
        self.open_button = QPushButton("&Open contact")
        self.open_button.clicked.connect(self.open_selected)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        for button in (self.merge_button, self.open_button):
            button.setEnabled(False)
        # Enter anywhere in the dialog (the list included) merges the selected pair.
        self.merge_button.setDefault(True)
        self.open_button.setAutoDefault(False)
        self.close_button.setAutoDefault(False)
        on_selection(self.table, self._on_selection)
        bar = QHBoxLayout()
        bar.addWidget(self.merge_button)
        bar.addWidget(self.open_button)
        bar.addStretch(1)
        bar.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addLayout(bar)
        self.resize(900, 520)
        self.search()

    def search(self) -> None:
        self.status.setText("Looking for duplicates…")
        self.ctx.query(lambda s: duplicates.find_duplicates(s, limit=LISTED), self._show)

    def _show(self, pairs: list[DuplicatePair]) -> None:
        if not isValid(self):
            return  # closed while the search ran
        self.model.set_rows(pairs)
        self._say()
        if pairs:
            self.table.selectRow(0)
            self.table.setFocus()

    def _say(self) -> None:
        n = self.model.rowCount()
        # The finder lists the strongest pairs only; merging them and searching again shows more.
        capped = " (the strongest; search again after merging for more)" if n >= LISTED else ""
        self.status.setText(
            f"{plural(n, 'pair')}{capped} of contacts that look like the same person (the same email "
            "or phone, or similar names at one account). Select one and press Enter to merge them."
            if n
            else "No likely duplicates found."
        )

    def selected(self) -> DuplicatePair | None:
        return selected_row(self.table, self.model)

    def _on_selection(self) -> None:
        chosen = self.selected() is not None
        self.merge_button.setEnabled(chosen)
        self.open_button.setEnabled(chosen)

    def merge_selected(self) -> MergeDialog | None:
        pair = self.selected()
        if pair is None:
            return None
        dialog = MergeDialog(self.ctx, pair.first_id, pair.second_id, self)
        dialog.merged.connect(self._on_merged)
        dialog.open()
        return dialog

    def open_selected(self) -> None:
        pair = self.selected()
        if pair is not None:
            self.contact_open_requested.emit(pair.first_id)

    def _on_merged(self, result: object) -> None:
        assert isinstance(result, Merged)
        gone: uuid.UUID = result.merged_id
        kept = [p for p in self.model.rows() if gone not in (p.first_id, p.second_id)]
        self.model.set_rows(kept)
        self._say()
        if kept:
            self.table.selectRow(0)
        self.merged.emit(result)
