"""Plan or edit a visit, and record how a visit went.

Both dialogs are forms on the common base (``ui.forms.FormDialog``): they read through the app
context, save in one transaction off the GUI thread, explain bad input under the field it is
about, and hand anything else to the one error presenter. Their writes reach the other pages
through the context's change bus.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid
from sqlalchemy.orm import Session

from models.entities import Visit
from models.rows import ContactRow, VisitRow
from models.services.accounts import account_choices, get_account
from models.services.commitments import CommitmentInput
from models.services.contacts import contact_rows, list_contacts
from models.services.visits import VisitInput, VisitOutcome, create_visit, update_visit
from models.services.wrapup import WrapUp, WrapUpResult, wrap_up_visit
from ui.context import AppContext
from ui.forms import FormDialog, OptionalDateEdit
from ui.qt_dates import from_qdatetime, to_qdatetime
from ui.wrap_up import WrapUpExtras


class VisitDialog(FormDialog):
    """Create (``visit=None``) or edit a visit; ``saved(id)`` once it is saved."""

    entity = Visit

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        *,
        visit: VisitRow | None = None,
        day: date | None = None,
        account_id: uuid.UUID | None = None,
        contact_ids: tuple[uuid.UUID, ...] = (),
    ) -> None:
        super().__init__(ctx, "Edit visit" if visit else "New visit", parent)
        self._visit = visit
        self._wanted_account = visit.account_id if visit else account_id
        self._checked: set[uuid.UUID] = set(visit.contact_ids if visit else contact_ids)
        self._account_address = ""
        self._contacts_seq = 0

        self.when = QDateTimeEdit()
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        if visit is not None:
            self.when.setDateTime(to_qdatetime(visit.starts_at.astimezone()))
        else:
            start = datetime.combine(day or date.today(), time(9, 0))
            self.when.setDateTime(to_qdatetime(start))
        self.duration = QSpinBox()
        self.duration.setRange(5, 24 * 60)
        self.duration.setSingleStep(15)
        self.duration.setSuffix(" min")
        self.duration.setValue(visit.duration_minutes if visit else 60)
        self.account = QComboBox()
        self.account.setEditable(True)  # typing filters 10,000 accounts faster than scrolling
        self.account.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.account.addItem("(no account)", None)
        self.contacts = QListWidget()
        self.contacts.setMinimumHeight(110)
        self.location = QLineEdit(visit.location if visit else "")
        self.purpose = QLineEdit(visit.purpose if visit else "")
        self.agenda = QPlainTextEdit(visit.agenda if visit else "")
        self.agenda.setTabChangesFocus(True)
        for key, label, widget in (
            ("starts_at", "&When", self.when),
            ("duration_minutes", "&Duration", self.duration),
            ("account_id", "&Account", self.account),
            ("contact_ids", "&People", self.contacts),
            ("location", "&Location", self.location),
            ("purpose", "P&urpose", self.purpose),
            ("agenda", "A&genda", self.agenda),
        ):
            self.add_field(key, label, widget)

        self.account.currentIndexChanged.connect(self._on_account_changed)
        self.contacts.itemChanged.connect(self._on_contact_toggled)
        self._set_busy(True)
        ctx.query(account_choices, self._when_alive(self._on_accounts_loaded))

    def first_to_fill(self) -> QWidget:
        # The time comes first, as on paper; the rest is often right already (the day, the hour).
        return self.when

    def _when_alive(self, slot: Callable[..., None]) -> Callable[..., None]:
        """A slot dropped if the dialog was closed (and deleted) while the worker was reading."""

        def call(*args: object) -> None:
            if isValid(self):
                slot(*args)

        return call

    # --- loading ------------------------------------------------------------------------------

    def _on_accounts_loaded(self, choices: list[tuple[uuid.UUID, str]]) -> None:
        self.account.blockSignals(True)
        for account_id, name in choices:
            # Text ids: QComboBox.findData compares wrapped Python objects by identity, not value.
            self.account.addItem(name, str(account_id))
        index = self.account.findData(str(self._wanted_account)) if self._wanted_account else 0
        self.account.setCurrentIndex(max(0, index))
        self.account.blockSignals(False)
        self._set_busy(False)
        self._on_account_changed()

    def selected_account(self) -> uuid.UUID | None:
        data = self.account.currentData()
        return uuid.UUID(data) if data else None

    def select_account(self, account_id: uuid.UUID | None) -> None:
        self.account.setCurrentIndex(max(0, self.account.findData(str(account_id)) if account_id else 0))

    def _on_account_changed(self, _index: int = 0) -> None:
        account_id = self.selected_account()
        chosen = set(self._checked)
        self._contacts_seq += 1
        seq = self._contacts_seq

        def load(s: Session) -> tuple[str, list[ContactRow]]:
            if account_id is None:
                # People without a company: list those already chosen so they can stay.
                return "", contact_rows(s, list(chosen))
            return get_account(s, account_id).address, list_contacts(s, account_id=account_id, limit=500)

        def done(result: tuple[str, list[ContactRow]]) -> None:
            if seq == self._contacts_seq:  # a slower, older answer must not overwrite a newer one
                self._on_contacts_loaded(*result)

        self.ctx.query(load, self._when_alive(done))

    def _on_contacts_loaded(self, address: str, rows: list[ContactRow]) -> None:
        if self._account_address and self.location.text().strip() == self._account_address.strip():
            # The location was the old account's address by default: follow the new account.
            self.location.clear()
        self._account_address = address
        self.location.setPlaceholderText(
            f"Defaults to the account address: {address}" if address else "Where you meet"
        )
        self.contacts.blockSignals(True)
        self.contacts.clear()
        for row in rows:
            label = row.name + (f" — {row.role}" if row.role else "")
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if row.id in self._checked else Qt.CheckState.Unchecked)
            self.contacts.addItem(item)
        if not rows:
            hint = QListWidgetItem("Choose an account to pick the people you meet")
            hint.setFlags(Qt.ItemFlag.NoItemFlags)
            self.contacts.addItem(hint)
        self.contacts.blockSignals(False)

    def _on_contact_toggled(self, item: QListWidgetItem) -> None:
        cid = item.data(Qt.ItemDataRole.UserRole)
        if item.checkState() == Qt.CheckState.Checked:
            self._checked.add(cid)
        else:
            self._checked.discard(cid)

    # --- saving -------------------------------------------------------------------------------

    def value(self) -> VisitInput:
        starts = from_qdatetime(self.when.dateTime())
        # Only people listed for the chosen account count; a tick left from another account does not.
        listed = {
            self.contacts.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.contacts.count())
            if self.contacts.item(i).checkState() == Qt.CheckState.Checked
        }
        return VisitInput(
            starts_at=starts,  # naive: the rep's local wall clock
            duration_minutes=self.duration.value(),
            account_id=self.selected_account(),
            contact_ids=[c for c in listed if c is not None],
            location=self.location.text(),
            purpose=self.purpose.text(),
            agenda=self.agenda.toPlainText(),
        )

    def save_action(self) -> Callable[[Session], uuid.UUID]:
        inp = self.value()
        visit_id = self._visit.id if self._visit else None

        def save(s: Session) -> uuid.UUID:
            if visit_id is None:
                return create_visit(s, inp)
            update_visit(s, visit_id, inp)
            return visit_id

        return save

    def _set_busy(self, busy: bool) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not busy)


class CommitmentLine(QWidget):
    """One commitment made in the meeting: who owes, what, by when (optional)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.direction = QComboBox()
        self.direction.addItem("We owe", "we")
        self.direction.addItem("They owe", "they")
        self.what = QLineEdit()
        self.what.setPlaceholderText("What was promised")
        self.what.setMinimumWidth(160)  # the line's widest part: never squeezed to a few letters
        self.due = OptionalDateEdit()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.direction)
        layout.addWidget(self.what, 1)
        layout.addWidget(self.due)

    def value(self) -> CommitmentInput:
        return CommitmentInput(
            what=self.what.text(), direction=self.direction.currentData(), due_date=self.due.date_text()
        )


class CompleteVisitDialog(FormDialog):
    """Mark a visit done; offers to log a visit note and the commitments made in the meeting."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *, visit: VisitRow) -> None:
        super().__init__(ctx, "Complete visit", parent)
        self._visit = visit
        who = ", ".join(visit.contact_names) or visit.account_name
        intro = QLabel(f"{visit.starts_at.astimezone():%H:%M} · {visit.account_name or who}")
        intro.setStyleSheet("font-weight: bold;")
        self.form.addRow(intro)
        self.log_note = QCheckBox("Log a visit note")
        self.log_note.setChecked(True)
        self.note_summary = QLineEdit(visit.purpose)
        self.note_summary.setPlaceholderText("What happened, in a line")
        self.note_body = QPlainTextEdit()
        self.note_body.setTabChangesFocus(True)
        self.note_body.setPlaceholderText("Details (optional)")
        self.log_note.toggled.connect(self.note_summary.setEnabled)
        self.log_note.toggled.connect(self.note_body.setEnabled)
        self.lines: list[CommitmentLine] = []
        self._sent: list[CommitmentLine] = []  # the lines the last save sent, in the service's order
        made = QWidget()
        self._lines_box = QVBoxLayout(made)
        self._lines_box.setContentsMargins(0, 0, 0, 0)
        add = QPushButton("Add a commitment")
        add.clicked.connect(self.add_commitment)
        self._lines_box.addWidget(add, 0, Qt.AlignmentFlag.AlignLeft)
        # The note service's own keys (summary, body), so its explanations land under these.
        self.add_field("log_note", "", self.log_note)
        self.add_field("summary", "&Summary", self.note_summary)
        self.add_field("body", "&Details", self.note_body)
        self.add_field("commitments", "Commitments made\nin the meeting", made)
        self.extras = WrapUpExtras(self, visit)  # feedback, an order, the next visit
        self.saved.connect(self.extras.after_save)
        self.done_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.done_button.setText("Mark as done")

    def add_commitment(self) -> CommitmentLine:
        line = CommitmentLine(self)
        self.lines.append(line)
        self._lines_box.insertWidget(len(self.lines) - 1, line)  # above the "Add" button
        if self.isVisible():
            self._grow_to_form()
        line.what.setFocus()
        self.scroll_area.ensureWidgetVisible(line)
        return line

    def _grow_to_form(self) -> None:
        """Room for what the form now holds (a new line, an explanation), as far as the screen
        allows; beyond that the form scrolls."""
        layout, inner = self.layout(), self.scroll_area.widget()
        if layout is None or inner is None:
            return
        layout.activate()
        want = inner.sizeHint()
        extra_w = self.width() - self.scroll_area.viewport().width()
        extra_h = self.height() - self.scroll_area.viewport().height()
        free = self.screen().availableGeometry()
        width = min(max(self.width(), want.width() + extra_w), free.width() - 40)
        height = min(max(self.height(), want.height() + extra_h), free.height() - 60)
        self.resize(width, height)

    def value(self) -> VisitOutcome:
        # Rows left completely empty are ignored rather than reported as errors.
        self._sent = [line for line in self.lines if line.what.text().strip()]
        commitments = [line.value() for line in self._sent]
        if not self.log_note.isChecked():
            return VisitOutcome(commitments=commitments)
        return VisitOutcome(self.note_summary.text(), self.note_body.toPlainText(), commitments)

    def save_action(self) -> Callable[[Session], WrapUpResult]:
        heard, order = self.extras.values()
        wrap, visit_id = WrapUp(self.value(), heard, order), self._visit.id
        return lambda s: wrap_up_visit(s, visit_id, wrap)

    def show_errors(self, field_errors: dict[str, str]) -> None:
        # "commitments.1.due_date" is about the second line: said under the commitments, by number.
        shown: dict[str, str] = {}
        bad_line: QWidget | None = None
        for key, why in field_errors.items():
            parts = key.split(".")
            if parts[0] == "commitments" and len(parts) > 1:
                index = int(parts[1])
                sent = self._sent[index] if index < len(self._sent) else None
                # Numbered as the rep sees the lines (an empty one above was not sent).
                number = self.lines.index(sent) + 1 if sent is not None else index + 1
                line = f"Commitment {number}: {why}"
                shown["commitments"] = f"{shown['commitments']}\n{line}" if "commitments" in shown else line
                if bad_line is None and sent is not None:
                    bad_line = sent.due if parts[-1] == "due_date" else sent.what
            else:
                shown[key] = why
        super().show_errors(shown)
        if shown:
            self._grow_to_form()
        if bad_line is not None and not any(k in self._fields for k in shown if k != "commitments"):
            # The field to fix, not the box the lines sit in.
            bad_line.setFocus()
            self.scroll_area.ensureWidgetVisible(bad_line)
