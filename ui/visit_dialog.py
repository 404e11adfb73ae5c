"""Plan or edit a visit, and record how a visit went.

All database work goes through the task runner; the dialogs hold plain rows only. Field errors
from the service are shown under the field they concern, and nothing is saved until they are
fixed (the service's transaction rolls back).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
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

from models import errors
from models.db import Database
from models.rows import ContactRow, VisitRow
from models.services.accounts import account_choices, get_account
from models.services.commitments import CommitmentInput
from models.services.contacts import contact_rows, list_contacts
from models.services.visits import VisitInput, VisitOutcome, complete_visit, create_visit, update_visit
from ui.forms import OptionalDateEdit
from ui.qt_dates import from_qdatetime, to_qdatetime
from ui.tasks import TaskRunner

ERROR_STYLE = "color: #b03a2e;"


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def _with_error(field: QWidget, label: QLabel) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(field)
    layout.addWidget(label)
    return box


class VisitDialog(QDialog):
    """Create (``visit=None``) or edit a visit. Emits ``saved(id)`` and ``data_changed``."""

    saved = Signal(object)
    save_failed = Signal(dict)  # field -> why, as shown in the form
    data_changed = Signal()

    def __init__(
        self,
        db: Database,
        tasks: TaskRunner,
        parent: QWidget | None = None,
        *,
        visit: VisitRow | None = None,
        day: date | None = None,
        account_id: uuid.UUID | None = None,
        contact_ids: tuple[uuid.UUID, ...] = (),
    ) -> None:
        super().__init__(parent)
        self._db, self._tasks, self._visit = db, tasks, visit
        self._wanted_account = visit.account_id if visit else account_id
        self._checked: set[uuid.UUID] = set(visit.contact_ids if visit else contact_ids)
        self._account_address = ""
        self._contacts_seq = 0
        self.setWindowTitle("Edit visit" if visit else "New visit")

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

        self.errors: dict[str, QLabel] = {
            k: _error_label()
            for k in (
                "starts_at",
                "duration_minutes",
                "account_id",
                "contact_ids",
                "location",
                "purpose",
                "agenda",
            )
        }
        self.general_error = _error_label()
        form = QFormLayout()
        form.addRow("&When", _with_error(self.when, self.errors["starts_at"]))
        form.addRow("&Duration", _with_error(self.duration, self.errors["duration_minutes"]))
        form.addRow("&Account", _with_error(self.account, self.errors["account_id"]))
        form.addRow("&People", _with_error(self.contacts, self.errors["contact_ids"]))
        form.addRow("&Location", _with_error(self.location, self.errors["location"]))
        form.addRow("&Purpose", _with_error(self.purpose, self.errors["purpose"]))
        form.addRow("A&genda", _with_error(self.agenda, self.errors["agenda"]))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.general_error)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.resize(520, 560)

        self.account.currentIndexChanged.connect(self._on_account_changed)
        self.contacts.itemChanged.connect(self._on_contact_toggled)
        self._set_busy(True)
        tasks.read(self._load_accounts, self._on_accounts_loaded, self._on_error)

    # --- loading ------------------------------------------------------------------------------

    def _load_accounts(self) -> list[tuple[uuid.UUID, str]]:
        with self._db.read() as s:
            return account_choices(s)

    def _on_accounts_loaded(self, choices: list[tuple[uuid.UUID, str]]) -> None:
        if not isValid(self):  # closed (and deleted) while the worker was reading
            return
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

        def load() -> tuple[str, list[ContactRow]]:
            with self._db.read() as s:
                if account_id is None:
                    # People without a company: list those already chosen so they can stay.
                    return "", contact_rows(s, list(chosen))
                return get_account(s, account_id).address, list_contacts(s, account_id=account_id, limit=500)

        def done(result: tuple[str, list[ContactRow]]) -> None:
            if (
                isValid(self) and seq == self._contacts_seq
            ):  # a slower, older answer must not overwrite a newer one
                self._on_contacts_loaded(*result)

        self._tasks.read(load, done, self._on_error)

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

    def save(self) -> None:
        inp = self.value()
        visit_id = self._visit.id if self._visit else None
        self._show_errors({})
        self._set_busy(True)

        def write() -> uuid.UUID:
            with self._db.write() as s:
                if visit_id is None:
                    return create_visit(s, inp)
                update_visit(s, visit_id, inp)
                return visit_id

        self._tasks.write(write, self._on_saved, self._on_error)

    def _on_saved(self, visit_id: uuid.UUID) -> None:
        self._set_busy(False)
        self.saved.emit(visit_id)
        self.data_changed.emit()
        self.accept()

    def _on_error(self, exc: BaseException) -> None:
        if not isValid(self):
            raise exc
        self._set_busy(False)
        if isinstance(exc, errors.ValidationError):
            shown = exc.field_errors
        elif isinstance(exc, errors.RapportError):
            shown = {"": str(exc)}
        else:
            shown = {"": f"Something went wrong: {exc}"}
        self._show_errors(shown)
        self.save_failed.emit(shown)
        if not isinstance(exc, errors.RapportError):
            raise exc  # the task runner reports it to the error presenter with its traceback

    def _show_errors(self, field_errors: dict[str, str]) -> None:
        for key, label in [*self.errors.items(), ("", self.general_error)]:
            text = field_errors.get(key, "")
            label.setText(text)
            label.setVisible(bool(text))
        unknown = [why for key, why in field_errors.items() if key not in self.errors and key]
        if unknown:
            self.general_error.setText("\n".join(unknown))
            self.general_error.show()

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


class CompleteVisitDialog(QDialog):
    """Mark a visit done; offers to log a visit note and the commitments made in the meeting."""

    data_changed = Signal()

    def __init__(
        self, db: Database, tasks: TaskRunner, parent: QWidget | None = None, *, visit: VisitRow
    ) -> None:
        super().__init__(parent)
        self._db, self._tasks, self._visit = db, tasks, visit
        self.setWindowTitle("Complete visit")
        who = ", ".join(visit.contact_names) or visit.account_name
        intro = QLabel(f"{visit.starts_at.astimezone():%H:%M} · {visit.account_name or who}")
        intro.setStyleSheet("font-weight: bold;")
        self.log_note = QCheckBox("Log a visit note")
        self.log_note.setChecked(True)
        self.summary = QLineEdit(visit.purpose)
        self.summary.setPlaceholderText("What happened, in a line")
        self.body = QPlainTextEdit()
        self.body.setPlaceholderText("Details (optional)")
        self.log_note.toggled.connect(self.summary.setEnabled)
        self.log_note.toggled.connect(self.body.setEnabled)
        self.lines: list[CommitmentLine] = []
        self._lines_box = QVBoxLayout()
        add = QPushButton("Add a commitment")
        add.clicked.connect(self.add_commitment)
        self.error = _error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.done_button = self.buttons.addButton("Mark as done", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.log_note)
        layout.addWidget(self.summary)
        layout.addWidget(self.body)
        layout.addWidget(QLabel("Commitments made in the meeting"))
        layout.addLayout(self._lines_box)
        layout.addWidget(add, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(520, 420)

    def add_commitment(self) -> CommitmentLine:
        line = CommitmentLine(self)
        self.lines.append(line)
        self._lines_box.addWidget(line)
        line.what.setFocus()
        return line

    def value(self) -> VisitOutcome:
        # Rows left completely empty are ignored rather than reported as errors.
        commitments = [line.value() for line in self.lines if line.what.text().strip()]
        if not self.log_note.isChecked():
            return VisitOutcome(commitments=commitments)
        return VisitOutcome(self.summary.text(), self.body.toPlainText(), commitments)

    def save(self) -> None:
        outcome, visit_id = self.value(), self._visit.id
        self.done_button.setEnabled(False)

        def write() -> None:
            with self._db.write() as s:
                complete_visit(s, visit_id, outcome)

        self._tasks.write(write, self._on_saved, self._on_error)

    def _on_saved(self, _result: object) -> None:
        self.data_changed.emit()
        self.accept()

    def _on_error(self, exc: BaseException) -> None:
        self.done_button.setEnabled(True)
        if not isinstance(exc, errors.RapportError):
            raise exc
        if isinstance(exc, errors.ValidationError):
            lines = []
            for key, why in exc.field_errors.items():
                parts = key.split(".")
                lines.append(f"Commitment {int(parts[1]) + 1}: {why}" if parts[0] == "commitments" else why)
            self.error.setText("\n".join(lines))
        else:
            self.error.setText(str(exc))
        self.error.show()
