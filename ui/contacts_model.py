"""The contact list's item model: plain rows, fetched a page at a time, off the GUI thread.

Like Anki's browser table it never holds ORM objects. Pages are keyset-paged by name (so page
100 costs what page 1 costs); the view asks for more as the rep scrolls (``canFetchMore`` /
``fetchMore``), and every fetch runs in the task runner. A new filter bumps a generation counter
so results of an older filter that arrive late are dropped rather than shown.
"""

from __future__ import annotations

import uuid
from datetime import date

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush

from models.rows import ContactRow
from models.services import contacts
from ui.context import AppContext
from ui.table import overdue_colour

PAGE = 200
MAX_REFRESH = 5_000  # rows re-read after an edit; past that the list starts again at the top
COUNT_DELAY_MS = 250
Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Name", "Account", "Role", "Kind", "Email", "Phone", "Last contact")


def last_contact_text(row: ContactRow, today: date) -> str:
    if row.last_contact_at is None:
        return "never"
    days = (today - row.last_contact_at.astimezone().date()).days
    return "today" if days <= 0 else f"{days} d ago"


class ContactTableModel(QAbstractTableModel):
    loaded = Signal()  # the first page of a filter has arrived
    count_known = Signal(int)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._rows: list[ContactRow] = []
        self._search = ""
        self._kind: str | None = None
        self._generation = 0
        self._fetching = False
        self._exhausted = True
        self._today = date.today()
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(COUNT_DELAY_MS)
        self._count_timer.timeout.connect(self._count)

    # -- filtering ---------------------------------------------------------------------------
    def set_filter(self, search: str, kind: str | None = None) -> None:
        self._search, self._kind = search, kind
        self.reload()

    def reload(self, keep_loaded: bool = False) -> None:
        """Start over with the current filter. ``keep_loaded`` (after an edit): fetch as many
        rows as are loaded now, so a rep scrolled far down is not sent back to the top."""
        self._generation += 1
        self._count_timer.stop()
        self._today = date.today()
        self._fetching = False
        self._exhausted = False
        size = min(max(PAGE, len(self._rows)), MAX_REFRESH) if keep_loaded else PAGE
        self._fetch(after=None, replace=True, size=size)

    def _count(self) -> None:
        # Counted once the rep pauses, never beside a page: on two cores the count of a broad
        # filter (100+ ms on 100,000 contacts) would otherwise slow down the rows being waited for.
        gen, search, kind = self._generation, self._search, self._kind

        def done(n: int) -> None:
            if gen == self._generation:
                self.count_known.emit(n)

        self._ctx.query(lambda s: contacts.count_contacts(s, search, kind=kind), done)

    def _fetch(self, after: contacts.SortKey | None, replace: bool, size: int = PAGE) -> None:
        self._fetching = True
        gen, search, kind = self._generation, self._search, self._kind

        def done(rows: list[ContactRow]) -> None:
            if gen != self._generation:
                return  # an older filter's page: the rep has typed on since
            # Flags change only after the rows are in: views call fetchMore from inside
            # beginInsertRows, and must not ask again for the page being inserted.
            exhausted = len(rows) < size
            if replace:
                self.beginResetModel()
                self._rows = rows
                self.endResetModel()
            elif rows:
                first = len(self._rows)
                self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
                self._rows.extend(rows)
                self.endInsertRows()
            self._exhausted = exhausted
            self._fetching = False
            if replace:
                self.loaded.emit()
                self._count_timer.start()

        def failed(exc: BaseException) -> None:
            if gen == self._generation:
                self._fetching = False
                self._exhausted = True
            self._ctx.presenter.present(exc)

        self._ctx.query(
            lambda s: contacts.list_contacts(s, search, kind=kind, after=after, limit=size), done, failed
        )

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._fetching and bool(self._rows)

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._fetch(after=contacts.sort_key(self._rows[-1]), replace=False)

    # -- access --------------------------------------------------------------------------------
    def row_at(self, row: int) -> ContactRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, contact_id: uuid.UUID) -> int:
        for i, r in enumerate(self._rows):
            if r.id == contact_id:
                return i
        return -1

    @property
    def busy(self) -> bool:
        return self._fetching

    # -- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                row.name,
                row.account_name,
                row.role,
                row.kind.capitalize(),
                row.email,
                row.phone,
                last_contact_text(row, self._today),
            )[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 6 and row.checkin_overdue(self._today):
            return QBrush(overdue_colour())
        if role == Qt.ItemDataRole.ToolTipRole and col == 6 and row.checkin_overdue(self._today):
            return f"Check-in overdue: every {row.cadence_days} days"
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        return None
