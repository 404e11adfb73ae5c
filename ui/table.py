"""A small table model over a list of frozen rows, for the short lists (a contact's notes and
commitments, accounts, the trash, Today). The contact list, which can be huge, has its own lazy
model in ``contacts_model``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from models.rows import CommitmentRow
from ui.appearance import colour
from ui.flow_layout import FlowLayout

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex


def overdue_colour() -> QColor:
    """Red that stays readable on the dark appearance too."""
    return QColor(colour("error"))


@dataclass(frozen=True)
class Column(Generic[R]):
    title: str
    text: Callable[[R], str]
    alert: Callable[[R], bool] | None = None  # shown in red and bold when true
    width: int = 130


class RowsModel(QAbstractTableModel, Generic[R]):
    def __init__(self, columns: Sequence[Column[R]], parent: QObject | None = None) -> None:
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
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section].title
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, col = self._rows[index.row()], self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(row)
        alert = col.alert is not None and col.alert(row)
        if role == Qt.ItemDataRole.ForegroundRole and alert:
            return QBrush(overdue_colour())
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
    # Tab moves on to the page's buttons, as in every other widget; the arrows move between rows.
    # Qt's default walks Tab through every cell, so a rep on the keyboard alone never left the table.
    view.setTabKeyNavigation(False)
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


def status_text(row: CommitmentRow) -> str:
    return row.status.capitalize() + (f" {day_text(row.done_at)}" if row.done_at else "")


def commitment_columns(today: Callable[[], date], with_contact: bool = True) -> list[Column[CommitmentRow]]:
    if not with_contact:
        # A contact's own list sits in a narrow pane: short columns first, the status among them
        # (so Mark done visibly changes the row), and "what" takes the remaining width.
        return [
            Column("Due", lambda r: due_text(r, today()), lambda r: r.is_overdue(today()), 140),
            Column("Status", lambda r: r.status.capitalize(), width=72),
            Column("Who", lambda r: "We owe" if r.direction == "we" else "They owe", width=66),
            Column("What", lambda r: r.what, lambda r: r.is_overdue(today())),
        ]
    cols: list[Column[CommitmentRow]] = [
        Column("Due", lambda r: due_text(r, today()), lambda r: r.is_overdue(today()), 175),
        Column("Who owes", lambda r: "We owe them" if r.direction == "we" else "They owe us", width=100),
        Column("What", lambda r: r.what, lambda r: r.is_overdue(today()), 280),
        Column("Status", status_text, width=90),
        Column("Contact", lambda r: r.contact_name, width=150),
        Column("Account", lambda r: r.account_name),
    ]
    return cols


def button_bar(*widgets: QWidget) -> QWidget:
    """A row of buttons that wraps onto a second line when the pane is narrow: every action
    stays one click away (a toolbar's » menu hid them) and the window never has to widen."""
    bar = QWidget()
    flow = FlowLayout(bar)
    for widget in widgets:
        flow.addWidget(widget)
    return bar


def selected_row(view: QTableView, model: RowsModel[R]) -> R | None:
    """The row the rep selected, or None (a current index without a selection does not count:
    a button must not act on a row that is not highlighted)."""
    rows = view.selectionModel().selectedRows()
    return model.row_at(rows[0].row()) if rows else None


def on_selection(view: QTableView, update: Callable[[], None]) -> None:
    """Call ``update`` whenever the selection may have changed (a click, a reload)."""
    view.selectionModel().selectionChanged.connect(lambda *_: update())
    view.model().modelReset.connect(update)


def refill(view: QTableView, model: RowsModel[R], rows: Sequence[R]) -> None:
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
