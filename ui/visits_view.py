"""The Visits page: a chosen day's visits in time order (the route), and what to do with them."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from models.entities import VisitStatus
from models.rows import VisitRow
from models.services.visits import cancel_visit, visits_on
from ui.context import AppContext
from ui.printing.preview import save_briefing_pdf, show_briefing_preview
from ui.printing.render import PAPERS, default_paper
from ui.qt_dates import from_qdate
from ui.table import button_bar
from ui.visit_dialog import CompleteVisitDialog, VisitDialog

ModelIndex = QModelIndex | QPersistentModelIndex


class VisitTableModel(QAbstractTableModel):
    """A day's visits as plain rows (a day has tens of visits, so no lazy fetching is needed)."""

    HEADERS = ("Time", "Account", "With", "Purpose", "Location", "Status")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[VisitRow] = []

    def set_rows(self, rows: list[VisitRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> VisitRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rows(self) -> list[VisitRow]:
        return list(self._rows)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        v = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f"{v.starts_at.astimezone():%H:%M}–{v.ends_at.astimezone():%H:%M}"
            return (
                None,
                v.account_name,
                ", ".join(v.contact_names),
                v.purpose,
                v.location.replace("\n", ", "),
                v.status.capitalize(),
            )[col]
        if role == Qt.ItemDataRole.ToolTipRole and col in (3, 4):
            return v.agenda if col == 3 and v.agenda else v.location
        if role == Qt.ItemDataRole.ForegroundRole and v.status == VisitStatus.CANCELLED.value:
            return QBrush(QColor("#888888"))
        if role == Qt.ItemDataRole.FontRole and v.status == VisitStatus.CANCELLED.value:
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.UserRole:
            return v.id
        return None


class VisitsView(QWidget):
    """Pick a day; plan, edit, cancel and complete its visits; print the day's briefings."""

    refreshed = Signal()  # the table shows the day's rows (after every reload)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._seq = 0
        self._select_after_refresh: uuid.UUID | None = None
        self.dialog: QWidget | None = None  # the dialog last opened (tests and focus handling)

        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        prev_btn, next_btn, today_btn = QPushButton("◀"), QPushButton("▶"), QPushButton("Today")
        prev_btn.setToolTip("Previous day")
        next_btn.setToolTip("Next day")
        prev_btn.clicked.connect(lambda: self.set_day(self.day - timedelta(days=1)))
        next_btn.clicked.connect(lambda: self.set_day(self.day + timedelta(days=1)))
        today_btn.clicked.connect(lambda: self.set_day(date.today()))
        self.date_edit.dateChanged.connect(lambda _d: self.refresh())

        self.new_btn = QPushButton("New visit…")
        self.edit_btn = QPushButton("Edit…")
        self.cancel_btn = QPushButton("Cancel visit")
        self.complete_btn = QPushButton("Complete…")
        self.brief_btn = QPushButton("Print briefing…")
        self.print_btn = QPushButton("Print day's briefings…")
        self.pdf_btn = QPushButton("Save day as PDF…")
        self.paper = QComboBox()
        self.paper.addItems(list(PAPERS))
        self.paper.setCurrentText(default_paper())
        self.paper.setToolTip("Paper size for the briefing sheets")
        self.new_btn.clicked.connect(self.new_visit)
        self.edit_btn.clicked.connect(self.edit_visit)
        self.cancel_btn.clicked.connect(self.cancel_selected)
        self.complete_btn.clicked.connect(self.complete_selected)
        self.brief_btn.clicked.connect(self.print_selected)
        self.print_btn.clicked.connect(self.print_day)
        self.pdf_btn.clicked.connect(self.save_day_pdf)

        self.model = VisitTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        # Tab leaves the table for the buttons under it (rows are picked with the arrow keys);
        # moving cell by cell kept a keyboard rep from ever reaching "New visit…".
        self.table.setTabKeyNavigation(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        # Double-click, or Enter for a rep on the keyboard (as on the Today page).
        self.table.activated.connect(lambda _i: self.edit_visit())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.empty_label = QLabel("No visits planned on this day.")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        top = QHBoxLayout()
        for w in (prev_btn, self.date_edit, next_btn, today_btn):
            top.addWidget(w)
        top.addStretch(1)
        # Toolbars fold into a » menu on a narrow window instead of widening it.
        top.addWidget(button_bar(QLabel("Paper "), self.paper, self.print_btn, self.pdf_btn))
        actions = QHBoxLayout()
        actions.addWidget(
            button_bar(self.new_btn, self.edit_btn, self.cancel_btn, self.complete_btn, self.brief_btn), 1
        )
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label)
        layout.addLayout(actions)
        self._update_actions()
        # Every write (a dialog here, a sync, a contact renamed) says what it touched; a day's
        # visits are few, so the page reloads at once rather than when next shown.
        ctx.bus.changed.connect(self._on_data_changed)
        self.refresh()

    @property
    def day(self) -> date:
        return from_qdate(self.date_edit.date())

    def set_day(self, day: date) -> None:
        self.date_edit.setDate(QDate(day.year, day.month, day.day))  # refreshes via dateChanged

    def select_visit(self, visit_id: uuid.UUID, day: date) -> None:
        """Show the visit's day with the visit selected (opened from a search)."""
        self._select_after_refresh = visit_id
        if day == self.day:
            self.refresh()
        else:
            self.set_day(day)

    def selected(self) -> VisitRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def refresh(self) -> None:
        """Reload the day in a worker; a late answer for a day no longer shown is dropped."""
        self._seq += 1
        seq, day = self._seq, self.day

        def done(rows: list[VisitRow]) -> None:
            if isValid(self) and seq == self._seq:  # dropped if the view is gone or moved on
                self._on_loaded(rows)

        self.ctx.query(lambda s: visits_on(s, day), done)

    def _on_loaded(self, rows: list[VisitRow]) -> None:
        current = self.selected()
        keep = self._select_after_refresh or (current.id if current else None)
        self._select_after_refresh = None
        self.model.set_rows(rows)
        self.empty_label.setVisible(not rows)
        for i, row in enumerate(rows):
            if row.id == keep:
                self.table.selectRow(i)
        self._update_actions()
        self.refreshed.emit()

    def _on_data_changed(self, entities: set[str]) -> None:
        if entities & {"visit", "contact", "account"}:
            self.refresh()

    def _update_actions(self) -> None:
        v = self.selected()
        planned = v is not None and v.status == VisitStatus.PLANNED.value
        self.edit_btn.setEnabled(v is not None)
        self.cancel_btn.setEnabled(planned)
        self.complete_btn.setEnabled(planned)
        self.brief_btn.setEnabled(v is not None)
        has_visits = any(r.status != VisitStatus.CANCELLED.value for r in self.model.rows())
        self.print_btn.setEnabled(has_visits)
        self.pdf_btn.setEnabled(has_visits)

    # --- actions ------------------------------------------------------------------------------

    def new_visit(self) -> VisitDialog:
        dialog = VisitDialog(self.ctx, self, day=self.day)
        return self._open(dialog)

    def edit_visit(self) -> VisitDialog | None:
        v = self.selected()
        if v is None:
            return None
        return self._open(VisitDialog(self.ctx, self, visit=v))

    def _open(self, dialog: VisitDialog) -> VisitDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._on_saved)  # the page itself reloads when the bus says so
        self.dialog = dialog
        dialog.open()
        return dialog

    def _on_saved(self, visit_id: uuid.UUID) -> None:
        self._select_after_refresh = visit_id

    def cancel_selected(self) -> None:
        v = self.selected()
        if v is None:
            return
        answer = QMessageBox.question(
            self, "Cancel visit", f"Cancel the visit to {v.account_name or ', '.join(v.contact_names)}?"
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        visit_id = v.id

        self.ctx.act(lambda s: cancel_visit(s, visit_id))

    def complete_selected(self) -> CompleteVisitDialog | None:
        v = self.selected()
        if v is None:
            return None
        dialog = CompleteVisitDialog(self.ctx, self, visit=v)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.open()
        return dialog

    def print_selected(self) -> None:
        v = self.selected()
        if v is not None:
            show_briefing_preview(self, self.ctx, visit_id=v.id, paper=self.paper.currentText())

    def print_day(self) -> None:
        show_briefing_preview(self, self.ctx, day=self.day, paper=self.paper.currentText())

    def save_day_pdf(self) -> None:
        save_briefing_pdf(self, self.ctx, day=self.day, paper=self.paper.currentText())
