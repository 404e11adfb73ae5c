"""Contacts: a filter box that narrows the list as you type, the list, and the contact's page."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QEvent, QItemSelection, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from models.services import contacts
from ui.contact_detail import ContactDetailPane
from ui.contacts_model import ContactTableModel
from ui.context import AppContext
from ui.table import make_table


class ContactsView(QWidget):
    demo_requested = Signal()
    import_requested = Signal()  # File › Import contacts…, offered on the empty list
    new_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.filter = QLineEdit()
        self.filter.setObjectName("contact_filter")
        self.filter.setPlaceholderText(
            "Find contacts by name, account, email, phone, words from a note… (Ctrl+F)"
        )
        self.filter.setClearButtonEnabled(True)
        self.filter.installEventFilter(self)  # Down and Enter go on into the list
        self.kind = QComboBox()
        self.kind.addItem("All kinds", None)
        for k in contacts.KINDS:
            self.kind.addItem(k.capitalize(), k)
        self.count = QLabel()
        self.count.setObjectName("contact_count")

        self.model = ContactTableModel(ctx, self)
        self.table = make_table(self.model, name="contacts_table")
        # Several at once (Shift, Ctrl) for File › Export contacts; the page shows the one clicked.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.shown_count: int | None = None  # how many the filter matches, once counted
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        for column, width in enumerate((170, 170, 150, 80, 200, 130)):
            self.table.setColumnWidth(column, width)

        self.empty = QWidget()
        el = QVBoxLayout(self.empty)
        el.addStretch(1)
        self.empty_label = QLabel(
            "No contacts yet — add one, import them from your phone, Outlook or Google (a vCard or CSV "
            "file), or try Rapport with sample data (kept in a separate database)."
        )
        self.empty_label.setObjectName("empty_state")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)  # long enough to push a small window off the screen
        el.addWidget(self.empty_label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.add_button = QPushButton("Add a contact")
        self.import_button = QPushButton("Import contacts…")
        self.import_button.setObjectName("import_contacts_button")
        self.demo_button = QPushButton("Try with sample data")
        self.demo_button.setObjectName("demo_button")
        row.addWidget(self.add_button)
        row.addWidget(self.import_button)
        row.addWidget(self.demo_button)
        row.addStretch(1)
        el.addLayout(row)
        el.addStretch(2)
        self.add_button.clicked.connect(self.new_requested)
        self.demo_button.clicked.connect(self.demo_requested)
        self.import_button.clicked.connect(self.import_requested)
        self.no_match = QLabel("No contact matches this filter.")
        self.no_match.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.list_stack = QStackedWidget()
        for w in (self.table, self.empty, self.no_match):
            self.list_stack.addWidget(w)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.kind)
        ll.addLayout(bar)
        ll.addWidget(self.list_stack, 1)
        ll.addWidget(self.count)

        self.detail = ContactDetailPane(ctx)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("contacts_splitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.detail)
        # The contact's page holds their profile, promises, timeline and record tabs: it gets the
        # larger share at first (at 1280x720 a 3:2 split left the timeline two rows high).
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self.filter.textChanged.connect(self._apply_filter)
        self.kind.currentIndexChanged.connect(self._apply_filter)
        self.model.loaded.connect(self._on_loaded)
        self.model.count_known.connect(self._on_count)
        self._select_after_load: uuid.UUID | None = None
        self._open_first_after_load = False
        self._filter_changed = False
        self._scroll_after_load: int | None = None
        ctx.bus.changed.connect(self._on_data_changed)

    def start(self) -> None:
        self.model.reload()

    def _apply_filter(self, *_args: object) -> None:
        self._filter_changed = True
        self.model.set_filter(self.filter.text(), self.kind.currentData())

    def _filtered(self) -> bool:
        return bool(self.filter.text().strip()) or self.kind.currentData() is not None

    def _on_loaded(self) -> None:
        if self.model.rowCount() > 0:
            self.list_stack.setCurrentWidget(self.table)
        else:
            self.list_stack.setCurrentWidget(self.no_match if self._filtered() else self.empty)
        if self._scroll_after_load is not None:  # an edit refreshed the list: stay where the rep was
            self.table.verticalScrollBar().setValue(self._scroll_after_load)
            self._scroll_after_load = None
        wanted, self._select_after_load = self._select_after_load, None
        refiltered, self._filter_changed = self._filter_changed, False
        target = wanted or self.detail.contact_id
        row = self.model.row_of(target) if target else -1
        if self._open_first_after_load:
            self._open_first_after_load = False
            self.open_first()
        elif wanted is not None and row < 0 and self._filtered():
            # Opened from elsewhere but not among the filter's matches: show everyone.
            self._select_after_load = wanted
            self._clear_filter()
        elif row >= 0:
            self.table.selectRow(row)
            if wanted is not None:  # opened from elsewhere: show where they are in the list
                self.table.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter)
        elif target is not None and wanted is None and refiltered:
            # The filter left out the contact on screen: the page follows the list (a note
            # must not go to someone the list no longer shows). Enter opens the first match.
            self.table.clearSelection()
            self.detail.show_contact(None)
        elif target is None and self.model.rowCount() > 0 and not self._filtered():
            self.table.selectRow(0)
        else:
            self.table.clearSelection()  # the contact shown is further down than the rows loaded

    def selected_ids(self) -> list[uuid.UUID]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [row.id for row in map(self.model.row_at, rows) if row is not None]

    def _on_count(self, n: int) -> None:
        self.shown_count = n
        self.count.setText(f"{n:,} contact{'s' if n != 1 else ''}")

    def _on_selection(self, selected: QItemSelection, _old: QItemSelection) -> None:
        rows = selected.indexes()
        row = self.model.row_at(rows[0].row()) if rows else None
        if row is not None and row.id != self.detail.contact_id:
            self.detail.show_contact(row.id)

    def _on_data_changed(self, entities: set[str]) -> None:
        if entities & {"contact", "account", "note"}:
            self._scroll_after_load = self.table.verticalScrollBar().value()
            self.model.reload(keep_loaded=True)

    def select_contact(self, contact_id: uuid.UUID) -> None:
        """Show this contact (after creating it, or from another view)."""
        row = self.model.row_of(contact_id)
        if row >= 0:
            self.table.selectRow(row)
            return
        self._select_after_load = contact_id
        self.table.clearSelection()
        self.detail.show_contact(contact_id)
        # The list may be a moment old (the contact was just created or restored): look again,
        # and if the filter leaves them out, clear it then (_on_loaded).
        self.model.reload(keep_loaded=True)

    def _clear_filter(self) -> None:
        for widget in (self.filter, self.kind):
            widget.blockSignals(True)
        self.filter.clear()
        self.kind.setCurrentIndex(0)
        for widget in (self.filter, self.kind):
            widget.blockSignals(False)
        self._apply_filter()

    def open_first(self) -> None:
        """Open the first match and carry the keyboard into the list."""
        if self.model.busy:  # the rep typed and pressed Enter before the matches arrived
            self._open_first_after_load = True
            return
        if self.model.rowCount() > 0:
            self.table.selectRow(0)
            self.table.setCurrentIndex(self.model.index(0, 0))
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.filter and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.open_first()
                return True
            if event.key() == Qt.Key.Key_Down:
                if self.table.selectionModel().hasSelection():
                    self.table.setFocus(Qt.FocusReason.OtherFocusReason)
                else:
                    self.open_first()
                return True
        return super().eventFilter(watched, event)

    def focus_filter(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("contacts/header", self.table.horizontalHeader().saveState())
        settings.setValue("contacts/splitter", self.splitter.saveState())
        settings.setValue("contacts/detail_splitter", self.detail.splitter.saveState())

    def restore_state(self, settings: QSettings) -> None:
        for key, widget in (
            ("contacts/header", self.table.horizontalHeader()),
            ("contacts/splitter", self.splitter),
            ("contacts/detail_splitter", self.detail.splitter),
        ):
            value = settings.value(key)
            if value is not None:
                widget.restoreState(value)
