"""A small table model over a list of frozen rows, for the short lists (a contact's notes and
commitments, accounts, the trash, Today). The contact list, which can be huge, has its own lazy
model in ``contacts_model``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QToolBar, QWidget

from models.rows import CommitmentRow

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex
OVERDUE = QColor("#b3261e")


@dataclass(frozen=True)
class Column(Generic[R]):
    title: str
    text: Callable[[R], str]
    alert: Callable[[R], bool] | None = None  # shown in red and bold when true
    width: int = 130


class RowsModel(QAbstractTableModel, Generic[R]):
    def __init__(self, columns: Sequence[Column[R]], parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def widths(self) -> list[int]:
        return [c.width for c in self._columns]

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section].title
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, col = self._rows[index.row()], self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(row)
        alert = col.alert is not None and col.alert(row)
        if role == Qt.ItemDataRole.ForegroundRole and alert:
            return QBrush(OVERDUE)
        if role == Qt.ItemDataRole.FontRole and alert:
            font = QFont()
            font.setBold(True)
            return font
        return None


def make_table(model: QAbstractTableModel, parent: QWidget | None = None, name: str = "") -> QTableView:
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(24)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setDefaultSectionSize(130)
    if isinstance(model, RowsModel):
        for i, width in enumerate(model.widths()):
            view.setColumnWidth(i, width)
    return view


def day_text(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def due_text(row: CommitmentRow, today: date) -> str:
    if row.due_date is None:
        return "no date"
    if row.is_overdue(today):
        days = (today - row.due_date).days
        return f"{row.due_date.isoformat()} · {days} d late"
    return row.due_date.isoformat()


def commitment_columns(today: Callable[[], date], with_contact: bool = True) -> list[Column[CommitmentRow]]:
    cols: list[Column[CommitmentRow]] = [
        Column("Due", lambda r: due_text(r, today()), lambda r: r.is_overdue(today()), 175),
        Column("Who owes", lambda r: "We owe them" if r.direction == "we" else "They owe us", width=100),
        Column("What", lambda r: r.what, lambda r: r.is_overdue(today()), 280),
        Column(
            "Status",
            lambda r: r.status.capitalize() + (f" {day_text(r.done_at)}" if r.done_at else ""),
            width=90,
        ),
    ]
    if with_contact:
        cols += [
            Column("Contact", lambda r: r.contact_name, width=150),
            Column("Account", lambda r: r.account_name),
        ]
    return cols


def button_bar(*buttons: QWidget) -> QToolBar:
    """A row of buttons that folds into a » menu when the window is narrow, instead of making
    the whole window wider."""
    bar = QToolBar()
    bar.setMovable(False)
    bar.setStyleSheet("QToolBar { border: 0; spacing: 4px; }")
    for button in buttons:
        bar.addWidget(button)
    return bar


def refill(view: QTableView, model: RowsModel[Any], rows: Sequence[Any]) -> None:
    """Replace a list's rows after an edit without losing the rep's place: the scroll position
    and the selected row (matched by its ``id``) stay."""
    index = view.currentIndex()
    current = model.row_at(index.row()) if index.isValid() else None
    wanted = getattr(current, "id", None)
    scroll = view.verticalScrollBar().value()
    model.set_rows(rows)
    view.verticalScrollBar().setValue(scroll)
    if wanted is not None:
        for i, row in enumerate(rows):
            if getattr(row, "id", None) == wanted:
                view.setCurrentIndex(model.index(i, 0))
                view.selectRow(i)
                break
