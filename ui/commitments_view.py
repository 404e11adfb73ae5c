"""Commitments: every promise both ways, by due date, overdue ones impossible to miss."""

from __future__ import annotations

import uuid
from datetime import date

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from models.rows import CommitmentRow
from models.services import commitments
from ui.appearance import colour
from ui.context import AppContext, RefreshWhenShown
from ui.dialogs import CommitmentDialog
from ui.table import RowsModel, commitment_columns, make_table, on_selection, refill, selected_row

LIMIT = 5000


class CommitmentsView(QWidget):
    contact_open_requested = Signal(object)
    status_set = Signal(object, str)  # the row as it was, the status it now has

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._today = date.today()
        self._gen = 0
        self._select_after_load: uuid.UUID | None = None
        self.filter = QLineEdit()
        self.filter.setObjectName("commitment_filter")
        self.filter.setPlaceholderText("Find commitments by what, contact or account…")
        self.filter.setClearButtonEnabled(True)
        self.status = QComboBox()
        for label, value in (("Open", "open"), ("Done", "done"), ("Cancelled", "cancelled"), ("All", None)):
            self.status.addItem(label, value)
        self.model = RowsModel(commitment_columns(lambda: self._today), self)
        self.table = make_table(self.model, name="commitments_table")
        self.table.doubleClicked.connect(lambda _i: self.edit())
        self.summary = QLabel()
        self.summary.setObjectName("commitments_summary")
        bar = QHBoxLayout()
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.status)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("New…")
        self.done_button = QPushButton("Mark done")
        self.cancel_button = QPushButton("Cancel it")
        self.reopen_button = QPushButton("Reopen")
        self.open_button = QPushButton("Open contact")
        self.new_button.clicked.connect(self.new)
        for b, st in (
            (self.done_button, "done"),
            (self.cancel_button, "cancelled"),
            (self.reopen_button, "open"),
        ):
            b.clicked.connect(lambda _=False, status=st: self.set_status(status))
        self.open_button.clicked.connect(self._open_contact)
        on_selection(self.table, self._update_buttons)
        self._update_buttons()
        for b in (
            self.new_button,
            self.done_button,
            self.cancel_button,
            self.reopen_button,
            self.open_button,
        ):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(80)
        self._timer.timeout.connect(self.reload)
        self.filter.textChanged.connect(lambda _t: self._timer.start())
        self.status.currentIndexChanged.connect(lambda _i: self.reload())
        self.refresher = RefreshWhenShown(self, self.reload)
        ctx.bus.changed.connect(self._on_data_changed)

    def _on_data_changed(self, entities: set[str]) -> None:
        if entities & {"commitment", "contact", "account"}:
            self.refresher.request()

    def reload(self) -> None:
        self._gen += 1
        gen, search, status = self._gen, self.filter.text(), self.status.currentData()

        def done(rows: list[CommitmentRow]) -> None:
            if gen != self._gen:
                return
            self._today = date.today()
            refill(self.table, self.model, rows)
            wanted, self._select_after_load = self._select_after_load, None
            row = next((i for i, r in enumerate(rows) if r.id == wanted), -1)
            if row >= 0:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))
            # Sorted by due date, so every overdue one is within the first LIMIT rows.
            overdue = sum(r.is_overdue(self._today) for r in rows)
            text = f"{len(rows):,} shown"
            if len(rows) >= LIMIT:
                text = f"first {LIMIT:,} shown, type to narrow"
            if overdue:
                text = f"<b style='color:{colour('error')}'>{overdue} overdue</b> · " + text
            self.summary.setText(text)

        self.ctx.query(
            lambda s: commitments.list_commitments(s, status=status, search=search, limit=LIMIT), done
        )

    def select_commitment(self, commitment_id: uuid.UUID, what: str) -> None:
        """List it (whatever its status, found by its text) and select it (from a search)."""
        self._select_after_load = commitment_id
        for widget in (self.filter, self.status):
            widget.blockSignals(True)
        self.filter.setText(what)
        self.status.setCurrentIndex(self.status.findData(None))
        for widget in (self.filter, self.status):
            widget.blockSignals(False)
        self.reload()

    def selected(self) -> CommitmentRow | None:
        return selected_row(self.table, self.model)

    def _update_buttons(self) -> None:
        row = self.selected()
        self.done_button.setEnabled(row is not None and row.status != "done")
        self.cancel_button.setEnabled(row is not None and row.status != "cancelled")
        self.reopen_button.setEnabled(row is not None and row.status != "open")
        self.open_button.setEnabled(row is not None and row.contact_id is not None)

    def set_status(self, status: str) -> None:
        row = self.selected()
        if row is not None:
            self.ctx.act(
                lambda s: commitments.set_status(s, row.id, status),
                lambda _r: self.status_set.emit(row, status),
            )

    def new(self) -> None:
        CommitmentDialog(self.ctx, parent=self).open()

    def edit(self) -> None:
        row = self.selected()
        if row is not None:
            CommitmentDialog(self.ctx, row=row, parent=self).open()

    def _open_contact(self) -> None:
        row = self.selected()
        if row is not None and row.contact_id is not None:
            self.contact_open_requested.emit(row.contact_id)

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("commitments/header", self.table.horizontalHeader().saveState())

    def restore_state(self, settings: QSettings) -> None:
        value = settings.value("commitments/header")
        if value is not None:
            self.table.horizontalHeader().restoreState(value)
