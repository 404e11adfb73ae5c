"""Today: the start screen, a to-do list that acts.

One list of everything due (``models.services.today``), in sections: today's visits,
commitments due, check-ins, birthdays and dates, thank-yous owed, follow-ups after a sale,
detractors. The arrow keys walk the items (section titles are passed over); each item acts in
one key or click: log a note (N), mark done (D), snooze a day (S), a week (W) or to a picked
date (P), open the contact (O or Enter). The keys are the view's own actions, so Help ›
Keyboard shortcuts lists them (``ui/help.py`` reads every action with a ``shortcut_group``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QCalendarWidget,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from models.services import today as today_service
from models.services.today import Alert, Kind, TodayBoard, TodayItem, TodaySection
from ui.appearance import colour
from ui.context import AppContext
from ui.dialogs import NoteDialog
from ui.plural import plural
from ui.table import button_bar, make_table

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("What", "Who", "Account", "When")
# (name, button text, key): the keys Today answers to, shown on its buttons and in Help.
# No mnemonics on the buttons: Alt+S, Alt+E... belong to the menus; the bare keys act.
KEYS = (
    ("note", "Log note", "N"),
    ("done", "Mark done", "D"),
    ("snooze_day", "Snooze 1 day", "S"),
    ("snooze_week", "Snooze 1 week", "W"),
    ("snooze_pick", "Snooze until…", "P"),
    ("open", "Open contact", "O"),
)
SHORTCUT_GROUP = "Today"


class TodayModel(QAbstractTableModel):
    """A flat list of section titles and their items; titles span the row and cannot be chosen."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[TodaySection | TodayItem] = []

    def set_board(self, board: TodayBoard) -> None:
        self.beginResetModel()
        self._rows = []
        for section in board.sections:
            if section.count:
                self._rows.append(section)
                self._rows.extend(section.items)
        self.endResetModel()

    def item_at(self, row: int) -> TodayItem | None:
        found = self._rows[row] if 0 <= row < len(self._rows) else None
        return found if isinstance(found, TodayItem) else None

    def is_title(self, row: int) -> bool:
        return 0 <= row < len(self._rows) and isinstance(self._rows[row], TodaySection)

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

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid() or self.is_title(index.row()):
            return Qt.ItemFlag.NoItemFlags  # the arrow keys pass over a title
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if isinstance(row, TodaySection):
            if role == Qt.ItemDataRole.DisplayRole and index.column() == 0:
                shown = f" — the first {len(row.items):,} shown" if len(row.items) < row.count else ""
                return f"{row.title} ({row.count:,}){shown}"
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
            if role == Qt.ItemDataRole.ForegroundRole:  # not the greyed look of a disabled row
                return QBrush(QColor(colour("text")))
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return (row.title, row.contact_name, row.account_name, row.when)[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and row.alert is not Alert.NONE:
            return QBrush(QColor(colour("error" if row.alert is Alert.RED else "warning")))
        if role == Qt.ItemDataRole.ToolTipRole and row.alert is not Alert.NONE:
            return {
                Alert.RED: "Overdue, or past the longest gap before losing touch",
                Alert.AMBER: "Past the ideal interval",
            }[row.alert]
        return None


class PickDateDialog(QDialog):
    """Snooze until a day the rep picks: arrows move the day, Enter takes it."""

    def __init__(self, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("snooze_until")
        self.setWindowTitle("Snooze until")
        self.calendar = QCalendarWidget()
        tomorrow = today + timedelta(days=1)
        self.calendar.setMinimumDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
        week = today + timedelta(days=7)
        self.calendar.setSelectedDate(QDate(week.year, week.month, week.day))
        self.calendar.activated.connect(lambda _d: self.accept())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Show it again on:"))
        layout.addWidget(self.calendar)
        layout.addWidget(buttons)

    def chosen(self) -> date:
        picked = self.calendar.selectedDate()
        return date(picked.year(), picked.month(), picked.day())


class TodayView(QWidget):
    contact_open_requested = Signal(object)
    board_loaded = Signal(object)  # the TodayBoard shown

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._today = date.today()
        self.headline = QLabel()
        self.headline.setObjectName("today_headline")
        self.headline.setWordWrap(True)
        self.model = TodayModel(self)
        self.list = make_table(self.model, name="today_items")
        self.list.setColumnWidth(0, 380)
        self.list.setColumnWidth(1, 160)
        self.list.setColumnWidth(2, 170)
        self.list.activated.connect(lambda _i: self.open_contact())
        self.model.modelReset.connect(self._on_reset)
        self.buttons: dict[str, QPushButton] = {}
        self.key_actions: dict[str, QAction] = {}
        slots: dict[str, Callable[[], object]] = {
            "note": self.log_note,
            "done": self.mark_done,
            "snooze_day": lambda: self.snooze(1),
            "snooze_week": lambda: self.snooze(7),
            "snooze_pick": self.snooze_pick,
            "open": self.open_contact,
        }
        for name, text, key in KEYS:
            button = QPushButton(f"{text} [{key}]")
            button.setObjectName(f"today_{name}")
            button.setAutoDefault(False)
            button.clicked.connect(slots[name])
            self.buttons[name] = button
            action = QAction(text, self)
            action.setObjectName(f"today_{name}_key")
            action.setShortcut(key)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setProperty("shortcut_group", SHORTCUT_GROUP)
            action.triggered.connect(lambda _c=False, slot=slots[name]: slot())
            self.addAction(action)
            self.key_actions[name] = action
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.headline)
        layout.addWidget(self.list, 1)
        layout.addWidget(button_bar(*self.buttons.values()))
        self.list.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self._wanted_row = 0
        self._loads = 0  # reloads asked for: only the newest one's results are shown
        self._first: TodayBoard | None = None  # the newest reload's two steps, as they arrive
        self._later: today_service.TodayLater | None = None
        self.board: TodayBoard | None = None
        self._update_buttons()
        ctx.bus.changed.connect(lambda _e: self.reload())

    # -- loading --------------------------------------------------------------------------------
    def reload(self) -> None:
        """Load in two steps read at once, on the task runner's two read threads (on two cores
        the whole board is there in about the time of the slower step, not of both): the
        sections a rep acts on first are shown as soon as they are read, then the slower ones
        (``today_service.LATER``) join them; ``board_loaded`` says the board is whole. Slower
        ones read first wait for the first ones. A newer reload makes an older one's results
        moot."""
        day = date.today()
        self._loads += 1
        load = self._loads
        self._first = None
        self._later = None
        self.ctx.query(lambda s: today_service.today_first(s, day), lambda b: self._fill_first(load, b))
        self.ctx.query(
            lambda s: today_service.today_later(s, day), lambda later: self._got_later(load, later)
        )

    def _fill_first(self, load: int, board: TodayBoard) -> None:
        if load != self._loads:
            return
        self._first = board
        if self._later is not None:
            self._fill_later(board, self._later)
            return
        # Until they are read again the slower sections stay as last loaded, as the whole board
        # stayed while it was read in one go.
        shown = board
        if self.board is not None and self.board.today == board.today and self.board.kept is not None:
            later = tuple(s for s in self.board.sections if s.name in today_service.LATER)
            shown = board.with_later(today_service.TodayLater(later, self.board.kept))
        self._fill(shown, whole=False)

    def _got_later(self, load: int, later: today_service.TodayLater) -> None:
        if load != self._loads:
            return
        self._later = later
        if self._first is not None:
            self._fill_later(self._first, later)

    def _fill_later(self, first: TodayBoard, later: today_service.TodayLater) -> None:
        # The rows shown so far keep their places: stay on the one the rep is on.
        rows = self.list.selectionModel().selectedRows()
        if rows:
            self._wanted_row = rows[0].row()
        self._fill(first.with_later(later), whole=True)
        self.board_loaded.emit(self.board)

    def section(self, name: str) -> TodaySection | None:
        """The section ``name`` as last loaded (None before it is first loaded)."""
        return self.board.section(name) if self.board is not None and self.board.has(name) else None

    def row_of(self, key: str) -> int:
        """The list's row showing the item ``key`` (-1 if it is not shown)."""
        rows = range(self.model.rowCount())
        return next((i for i in rows if (item := self.model.item_at(i)) and item.key == key), -1)

    def _fill(self, board: TodayBoard, *, whole: bool) -> None:
        self.board = board
        self._today = board.today
        self.model.set_board(board)
        counts = {s.name: s.count for s in board.sections}
        overdue = board.overdue_commitments
        parts = [
            f"<b style='color:{colour('error')}'>{plural(overdue, 'overdue commitment')}</b>"
            if overdue
            else "No overdue commitments",
            f"{plural(counts.get('visits', 0), 'visit')} today",
            f"{plural(counts.get('checkins', 0), 'check-in')} due",
        ]
        kept = board.kept
        if kept is not None and kept.rate is not None:
            parts.append(f"kept on time: <b>{kept.rate:.0%}</b> ({kept.kept_on_time:,} of {kept.total:,})")
        if whole and not any(counts.values()):
            parts.append("nothing else is due today")
        self.headline.setText(" · ".join(parts))

    def _on_reset(self) -> None:
        # Keep the rep's place: after acting on an item the next one is selected.
        for i in (*range(self._wanted_row, self.model.rowCount()), *range(self._wanted_row - 1, -1, -1)):
            if self.model.item_at(i) is not None:
                self.list.setCurrentIndex(self.model.index(i, 0))
                self.list.selectRow(i)
                break
        self.list.clearSpans()
        for i in range(self.model.rowCount()):
            if self.model.is_title(i):
                self.list.setSpan(i, 0, 1, len(COLUMNS))
        self._update_buttons()

    # -- the selected item ----------------------------------------------------------------------
    def current(self) -> TodayItem | None:
        rows = self.list.selectionModel().selectedRows()
        return self.model.item_at(rows[0].row()) if rows else None

    def select_first(self) -> None:
        self._wanted_row = 0
        self._on_reset()
        self.list.setFocus()

    def _update_buttons(self) -> None:
        item = self.current()
        enabled = {
            "note": item is not None and (item.contact_id is not None or item.kind is Kind.VISIT),
            "done": item is not None,
            "snooze_day": item is not None and today_service.can_snooze(item),
            "snooze_week": item is not None and today_service.can_snooze(item),
            "snooze_pick": item is not None and today_service.can_snooze(item),
            "open": item is not None and item.contact_id is not None,
        }
        for name, on in enabled.items():
            self.buttons[name].setEnabled(on)
            self.key_actions[name].setEnabled(on)
        self.buttons["done"].setText(f"{_done_text(item)} [D]")

    def _act(self, fn: Callable[[TodayItem], Callable[..., None]]) -> None:
        item = self.current()
        if item is None:
            return
        self._wanted_row = self.list.currentIndex().row()
        job = fn(item)
        self.ctx.act(lambda s: job(s))

    # -- the actions ----------------------------------------------------------------------------
    def mark_done(self) -> None:
        day = self._today
        self._act(lambda item: lambda s: today_service.mark_done(s, item, day))

    def snooze(self, days: int) -> None:
        self.snooze_until(self._today + timedelta(days=days))

    def snooze_until(self, until: date) -> None:
        day = self._today
        item = self.current()
        if item is None or not today_service.can_snooze(item):
            return
        self._act(lambda item: lambda s: today_service.snooze_item(s, item, until, day))

    def snooze_pick(self) -> PickDateDialog | None:
        item = self.current()
        if item is None or not today_service.can_snooze(item):
            return None
        dialog = PickDateDialog(self._today, self)
        dialog.accepted.connect(lambda: self.snooze_until(dialog.chosen()))
        dialog.open()
        return dialog

    def log_note(self) -> NoteDialog | None:
        item = self.current()
        if item is None:
            return None
        contact = (item.contact_id, item.contact_name) if item.contact_id is not None else None
        channel = "visit" if item.kind is Kind.VISIT else "call"
        dialog = NoteDialog(self.ctx, contact=contact, channel=channel, parent=self)
        dialog.summary_edit.setText(_note_summary(item))
        dialog.open()
        return dialog

    def open_contact(self) -> None:
        item = self.current()
        if item is not None and item.contact_id is not None:
            self.contact_open_requested.emit(item.contact_id)


def _done_text(item: TodayItem | None) -> str:
    """What "done" does for the selected item, on its button."""
    if item is None:
        return "Mark done"
    return {
        Kind.VISIT: "Mark visit done",
        Kind.COMMITMENT: "Mark done",
        Kind.CHECKIN: "Done until next due",
        Kind.THANKS: "Thanked: log it",
    }.get(item.kind, "Dismiss")


def _note_summary(item: TodayItem) -> str:
    return {
        Kind.CHECKIN: "Check-in",
        Kind.DATE: item.title,
        Kind.THANKS: item.title.replace("Thank them", "Thanked them", 1),
        Kind.FOLLOWUP: item.title.replace("Follow up", "Followed up", 1),
        Kind.DETRACTOR: "Followed up on their feedback",
    }.get(item.kind, "")
