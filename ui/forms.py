"""The base of every edit dialog: fields with their explanation shown right under them.

Saving runs the service in the task runner (one transaction); a ``ValidationError`` comes back
with one message per field, shown next to the field, and nothing is saved. The dialog stays open
with what the rep typed, so nothing is lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar, TypeVar

from PySide6.QtCore import QDate, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QCalendarWidget,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid
from sqlalchemy.orm import Session

from models import errors
from models.entities import SyncedMixin
from models.rows import ContactRow
from models.services import contacts
from models.values import described, entity_fields
from ui.appearance import colour
from ui.context import AppContext
from ui.field_editors import Reader, make_editor


def error_style() -> str:
    """Red words that stay readable on the dark appearance too (set when a dialog is made)."""
    return f"color: {colour('error')};"


# A field keeps its own type, so a dialog can call its QLineEdit or QComboBox methods on it.
FieldT = TypeVar("FieldT", bound=QWidget)


class FormDialog(QDialog):
    saved = Signal(object)  # what the service returned (usually the row's id)
    # The row type the form edits: its fields' length limits are shown and enforced.
    entity: ClassVar[type[SyncedMixin] | None] = None

    def __init__(self, ctx: AppContext, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.summary = QLabel()
        self.summary.setStyleSheet(error_style())
        self.summary.setWordWrap(True)
        self.summary.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        # Enter saves from a one-line field; in a box of several lines it starts a new line, so
        # Ctrl+Enter saves from anywhere in the form.
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self._submit_by_keys)
        # The form scrolls, so a long one still fits a 768-pixel laptop screen.
        self._inner = QWidget()
        self._inner.setLayout(self.form)
        # Not ``self.scroll``: that would hide QWidget.scroll(dx, dy).
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setWidget(self._inner)
        # Tab goes from field to field: the scroll area is no stop of its own (it still scrolls
        # the focused field into view).
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._outer = QVBoxLayout(self)
        self._outer.addWidget(self.scroll_area, 1)
        self._outer.addWidget(self.summary)
        self._outer.addWidget(self.buttons)
        self._fields: dict[str, QWidget] = {}
        self._errors: dict[str, QLabel] = {}
        self._readers: dict[str, Reader] = {}
        self._focus_set = False

    def add_field(self, key: str, label: str, widget: FieldT, hint: str = "") -> FieldT:
        spec = entity_fields()[self.entity.__entity__].get(key) if self.entity is not None else None
        if isinstance(widget, QLineEdit) and spec is not None and spec.max_length is not None:
            # Typing stops at the limit the server holds every change to; an older, longer value
            # stays whole (the service then says it is too long, rather than it being cut here).
            widget.setMaxLength(max(spec.max_length, len(widget.text())))
            limit = f"Up to {spec.max_length} characters"
            hint = f"{hint} · {limit}" if hint else limit
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addWidget(widget)
        if hint:
            tip = QLabel(hint)
            tip.setStyleSheet(f"color: {colour('muted')};")
            col.addWidget(tip)
        err = QLabel()
        err.setObjectName(f"error_{key}")
        err.setStyleSheet(error_style())
        err.setWordWrap(True)
        err.hide()
        col.addWidget(err)
        self.form.addRow(label, box)
        # The label's Alt+letter goes to the field itself (its box takes no focus).
        buddy = self.form.labelForField(box)
        if isinstance(buddy, QLabel):
            buddy.setBuddy(widget)
        self._fields[key] = widget
        self._errors[key] = err
        # The red words go as soon as the rep changes the field they are about.
        editors: list[QWidget] = [widget, *widget.findChildren(QWidget)]
        for editor in editors:
            on_edit(editor, err.hide)
        return widget

    def add_described(self, values: object) -> None:
        """A row for every described field of ``entity`` (``models.shown``), in declaration order,
        each filled from the attribute of ``values`` (the form's input, or a row) of its name."""
        assert self.entity is not None
        for field in described(self.entity):
            widget, read = make_editor(self.ctx, field, getattr(values, field.name))
            self.add_field(field.name, field.shown.label, widget, field.shown.hint)
            self._readers[field.name] = read

    def described_values(self) -> dict[str, Any]:
        """What the rep typed in the described fields, by field name, as the services take it."""
        return {name: read() for name, read in self._readers.items()}

    def editor(self, key: str) -> QWidget:
        """The editor of field ``key``."""
        return self._fields[key]

    def showEvent(self, event: QShowEvent) -> None:
        inner = self._inner.sizeHint()
        self.resize(max(self.width(), inner.width() + 40), min(inner.height() + 90, 640))
        super().showEvent(event)
        if not self._focus_set:
            self._focus_set = True
            first = self.first_to_fill()
            if first is not None:
                first.setFocus(Qt.FocusReason.OtherFocusReason)

    def first_to_fill(self) -> QWidget | None:
        """Where the rep's first keystroke should go: the first empty text field (the contact of
        a note opened from that contact's page is already filled), else the first field."""
        fields = [w for w in self._fields.values() if w.focusPolicy() != Qt.FocusPolicy.NoFocus]
        for widget in fields:
            if isinstance(widget, QLineEdit) and not widget.text():
                return widget
            if isinstance(widget, QPlainTextEdit) and not widget.toPlainText():
                return widget
        return fields[0] if fields else None

    def show_message(self, text: str) -> None:
        """A message about the whole form (not one field), shown in full above the buttons."""
        self.summary.setText(text)
        self.summary.setVisible(bool(text))
        if text:
            # Room for every line of it, taken neither from it nor from the fields: the dialog
            # grows (as far as the screen allows).
            self._outer.activate()
            lacking = self.summary.heightForWidth(self.summary.width()) - self.summary.height()
            clipped = self._inner.sizeHint().height() - self.scroll_area.viewport().height()
            grow = max(0, lacking) + max(0, clipped)
            if grow:
                free = self.screen().availableGeometry().height() - 60
                self.resize(self.width(), min(self.height() + grow, max(free, self.height())))

    def error_text(self, key: str) -> str:
        """What the form says about ``key`` (empty when the field is fine)."""
        label = self._errors.get(key)
        return label.text() if label is not None and not label.isHidden() else ""

    def show_errors(self, field_errors: dict[str, str]) -> None:
        first: QWidget | None = None
        unplaced: list[str] = []
        for key, label in self._errors.items():
            label.setVisible(key in field_errors)
            label.setText(field_errors.get(key, ""))
        for key, why in field_errors.items():
            if key in self._fields:
                first = first or self._fields[key]
            else:
                unplaced.append(why)
        self.show_message("\n".join(unplaced))
        if first is not None:
            first.setFocus()
            self.scroll_area.ensureWidgetVisible(first)

    # -- saving --------------------------------------------------------------------------------
    def save_action(self) -> Callable[[Session], object]:
        """The service call for what the form holds now (subclasses)."""
        raise NotImplementedError

    def _submit_by_keys(self) -> None:
        if self.buttons.isEnabled():  # not a second save while one is running
            self.submit()

    def submit(self) -> None:
        try:
            action = self.save_action()
        except errors.ValidationError as exc:  # caught while reading the form itself
            self.show_errors(exc.field_errors)
            return
        self.buttons.setEnabled(False)
        self.ctx.act(action, self._on_saved, self._on_failed)

    def _on_saved(self, result: object) -> None:
        if not isValid(self):  # closed (and deleted) while saving: the save stands, the bus said so
            return
        self.buttons.setEnabled(True)
        self.show_errors({})
        self.saved.emit(result)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        if not isValid(self):  # closed while saving: no form left to explain it in
            self.ctx.presenter.present(exc)
            return
        self.buttons.setEnabled(True)
        if isinstance(exc, errors.ValidationError):
            self.show_errors(exc.field_errors)
        else:
            self.ctx.presenter.present(exc, self)


def on_edit(widget: QWidget, hide: Callable[[], None]) -> None:
    def slot(*_args: object) -> None:
        hide()

    if isinstance(widget, QLineEdit | QPlainTextEdit):
        widget.textChanged.connect(slot)
    elif isinstance(widget, QComboBox):
        widget.currentIndexChanged.connect(slot)
        widget.editTextChanged.connect(slot)
    elif isinstance(widget, QAbstractSpinBox):  # dates and times
        widget.editingFinished.connect(slot)
    elif isinstance(widget, QAbstractButton):
        widget.toggled.connect(slot)
    elif isinstance(widget, QListWidget):  # a list of people to tick
        widget.itemChanged.connect(slot)


class OptionalDateEdit(QLineEdit):
    """A date that may be left empty: typed as YYYY-MM-DD, or picked from a calendar.

    A QDateEdit cannot hold "no date": its special-value trick shows the text "no date" that
    typing appends to, and its calendar opens on the minimum date. Here empty means no date,
    what the rep types is kept as typed (the service refuses a non-date in words), and the
    calendar opens on the typed date, or on today.
    """

    def __init__(self, value: date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("no date (YYYY-MM-DD)")
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("no date (YYYY-MM-DD)") + 60)
        if value is not None:
            self.setText(value.isoformat())
        pick = QAction("Pick a date", self)
        pick.setIcon(self.style().standardIcon(self.style().StandardPixmap.SP_FileDialogDetailedView))
        pick.setToolTip("Pick a date from a calendar")
        pick.triggered.connect(self.open_calendar)
        self.addAction(pick, QLineEdit.ActionPosition.TrailingPosition)
        self.calendar = QCalendarWidget(self)  # a child, so it goes with the field
        self.calendar.setWindowFlags(Qt.WindowType.Popup)
        self.calendar.setGridVisible(True)
        self.calendar.clicked.connect(self._on_picked)
        self.calendar.activated.connect(self._on_picked)

    def date_text(self) -> str | None:
        """What the field holds for the service: ``None`` for no date, else the text typed."""
        return self.text().strip() or None

    def open_calendar(self) -> QCalendarWidget:
        try:
            shown = date.fromisoformat(self.text().strip())
        except ValueError:
            shown = date.today()
        when = QDate(shown.year, shown.month, shown.day)
        self.calendar.setSelectedDate(when)
        self.calendar.setCurrentPage(when.year(), when.month())
        self.calendar.adjustSize()
        self.calendar.move(self.mapToGlobal(self.rect().bottomLeft()))
        self.calendar.show()
        self.calendar.setFocus()
        return self.calendar

    def _on_picked(self, when: QDate) -> None:
        self.setText(when.toString("yyyy-MM-dd"))
        self.calendar.hide()
        self.setFocus()


class ContactPicker(QLineEdit):
    """Type a few letters of a name; matching contacts are looked up off the GUI thread."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._by_label: dict[str, uuid.UUID] = {}
        self._model = QStringListModel(self)
        completer = QCompleter(self._model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setCompleter(completer)
        self.setPlaceholderText("Start typing a name…")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self._lookup)
        self.textEdited.connect(lambda _text: self._timer.start())

    def set_contact(self, contact_id: uuid.UUID, label: str) -> None:
        self._by_label[label] = contact_id
        self.setText(label)

    def contact_id(self) -> uuid.UUID | None:
        return self._by_label.get(self.text().strip())

    def _lookup(self) -> None:
        text = self.text().strip()
        if not text:
            return

        def show(rows: list[ContactRow]) -> None:
            labels = []
            for r in rows:
                label = f"{r.name} ({r.account_name})" if r.account_name else r.name
                self._by_label[label] = r.id
                labels.append(label)
            self._model.setStringList(labels)
            if self.hasFocus():
                self.completer().complete()

        self._ctx.query(lambda s: contacts.list_contacts(s, text, limit=20), show)
