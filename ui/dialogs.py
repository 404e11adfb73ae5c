"""The edit dialogs: contact, account, note, commitment."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)
from sqlalchemy.orm import Session

from models.entities import Account, Commitment, Contact, Note
from models.errors import ValidationError
from models.rows import AccountRow, CommitmentRow, ContactDetail, NoteRow
from models.services import accounts, commitments, contacts, notes
from models.services.accounts import AccountInput
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput
from models.services.notes import NoteInput
from ui.context import AppContext
from ui.forms import ContactPicker, FormDialog, OptionalDateEdit, split_list
from ui.qt_dates import from_qdatetime, to_qdatetime
from ui.settings import load_preferences

KIND_LABELS = {k: k.capitalize() for k in contacts.KINDS}
CHANNEL_LABELS = notes.CHANNEL_LABELS  # one mapping, shared with the briefing sheet
DIRECTION_LABELS = {"we": "We promised them", "they": "They promised us"}


def _text_box(height: int = 60) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setTabChangesFocus(True)
    box.setFixedHeight(height)
    return box


def _combo(labels: dict[str, str], current: str) -> QComboBox:
    combo = QComboBox()
    for value, label in labels.items():
        combo.addItem(label, value)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


class AccountCombo(QComboBox):
    """Every live account (loaded off the GUI thread), plus "no account"."""

    def __init__(self, ctx: AppContext, current: uuid.UUID | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItem("— none —", None)
        self.setEditable(True)  # type to jump: the completer matches any part of the name
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self._current = current
        ctx.query(accounts.account_choices, self._fill)

    def _fill(self, choices: list[tuple[uuid.UUID, str]]) -> None:
        for aid, name in choices:
            self.addItem(name, aid)
        # findData cannot compare Python objects such as UUIDs, so look the account up by hand.
        for i in range(self.count()):
            if self._current is not None and self.itemData(i) == self._current:
                self.setCurrentIndex(i)
                break
        completer = self.completer()
        if completer is not None:  # an editable combo box always has one
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def account_id(self) -> uuid.UUID | None:
        index = self.findText(self.currentText())
        if index < 0:
            if self.currentText().strip():
                raise ValidationError({"account_id": f"There is no account called “{self.currentText()}”"})
            return None
        value = self.itemData(index)
        return value if isinstance(value, uuid.UUID) else None


class ContactDialog(FormDialog):
    entity = Contact

    def __init__(
        self,
        ctx: AppContext,
        detail: ContactDetail | None = None,
        parent: QWidget | None = None,
        account_id: uuid.UUID | None = None,
    ) -> None:
        super().__init__(ctx, "Edit contact" if detail else "New contact", parent)
        self._id = detail.id if detail else None
        inp = contacts.contact_input(detail) if detail else ContactInput(name="", account_id=account_id)
        self.name = self.add_field("name", "Name", QLineEdit(inp.name))
        self.kind = self.add_field("kind", "Kind", _combo(KIND_LABELS, inp.kind))
        self.account = self.add_field("account_id", "Account", AccountCombo(ctx, inp.account_id))
        self.role = self.add_field("role", "Role", QLineEdit(inp.role))
        self.emails = self.add_field(
            "emails", "Emails", QLineEdit(", ".join(inp.emails)), "Separate several with commas"
        )
        self.phones = self.add_field(
            "phones", "Phones", QLineEdit(", ".join(inp.phones)), "International form, e.g. +44 20 7946 0958"
        )
        self.address = self.add_field("address", "Address", _text_box(48))
        self.address.setPlainText(inp.address)
        birthday = inp.birthday.isoformat() if isinstance(inp.birthday, date) else (inp.birthday or "")
        self.birthday = self.add_field("birthday", "Birthday", QLineEdit(birthday))
        self.birthday.setPlaceholderText("YYYY-MM-DD")
        self.personal_dates = self.add_field(
            "personal_dates", "Personal dates", _text_box(48), "One per line: Label: YYYY-MM-DD"
        )
        self.personal_dates.setPlainText("\n".join(f"{label}: {when}" for label, when in inp.personal_dates))
        self.preferences = self.add_field("preferences", "Preferences", _text_box())
        self.preferences.setPlainText(inp.preferences)
        self.needs = self.add_field("needs", "Needs and pain points", _text_box())
        self.needs.setPlainText(inp.needs)
        self.tags = self.add_field("tags", "Tags", QLineEdit(", ".join(inp.tags)), "Separate with commas")
        self.about = self.add_field("about", "About", _text_box())
        self.about.setPlainText(inp.about)
        cadence = "" if inp.cadence_days is None else str(inp.cadence_days)
        self.cadence = self.add_field(
            "cadence_days", "Check in every", QLineEdit(cadence), "Days; empty for no cadence"
        )
        self._cadence_default = ""
        if detail is None:  # a new contact starts with the cadence Preferences give its kind
            self._cadence_defaults = load_preferences().cadence
            self._fill_cadence_default()
            self.kind.currentIndexChanged.connect(lambda _i: self._fill_cadence_default())

    def _fill_cadence_default(self) -> None:
        # Never over what the rep typed: only an empty field or the previous kind's default.
        if self.cadence.text().strip() not in ("", self._cadence_default):
            return
        days = self._cadence_defaults.get(self.kind.currentData())
        self._cadence_default = "" if days is None else str(days)
        self.cadence.setText(self._cadence_default)

    def collect(self) -> ContactInput:
        dates: list[tuple[str, str | date]] = []
        for line in self.personal_dates.toPlainText().splitlines():
            if line.strip():
                label, _, when = line.rpartition(":")
                dates.append((label.strip(), when.strip()))
        return ContactInput(
            name=self.name.text(),
            kind=self.kind.currentData(),
            account_id=self.account.account_id(),
            role=self.role.text(),
            emails=split_list(self.emails.text()),
            phones=split_list(self.phones.text()),
            address=self.address.toPlainText(),
            birthday=self.birthday.text().strip() or None,
            personal_dates=dates,
            preferences=self.preferences.toPlainText(),
            needs=self.needs.toPlainText(),
            tags=split_list(self.tags.text()),
            about=self.about.toPlainText(),
            cadence_days=self.cadence.text().strip() or None,
        )

    def save_action(self) -> Callable[[Session], uuid.UUID]:
        inp = self.collect()
        contacts.clean_contact(inp)  # instant feedback on the GUI thread: pure checks, no I/O
        return saving(
            self._id,
            lambda s: contacts.create_contact(s, inp),
            lambda s, i: contacts.update_contact(s, i, inp),
        )


class AccountDialog(FormDialog):
    entity = Account

    def __init__(self, ctx: AppContext, row: AccountRow | None = None, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Edit account" if row else "New account", parent)
        self._id = row.id if row else None
        self.name = self.add_field("name", "Name", QLineEdit(row.name if row else ""))
        self.address = self.add_field("address", "Address", _text_box(48))
        self.address.setPlainText(row.address if row else "")
        self.segment = self.add_field("segment", "Segment", QLineEdit(row.segment if row else ""))
        self.tier = self.add_field("tier", "Tier", QLineEdit(row.tier if row else ""))
        self.about = self.add_field("about", "About", _text_box())
        self.about.setPlainText(row.about if row else "")

    def save_action(self) -> Callable[[Session], uuid.UUID]:
        inp = AccountInput(
            name=self.name.text(),
            address=self.address.toPlainText(),
            segment=self.segment.text(),
            tier=self.tier.text(),
            about=self.about.toPlainText(),
        )
        accounts.clean_account(inp)
        return saving(
            self._id,
            lambda s: accounts.create_account(s, inp),
            lambda s, i: accounts.update_account(s, i, inp),
        )


def saving(
    row_id: uuid.UUID | None,
    create: Callable[[Session], uuid.UUID],
    update: Callable[[Session, uuid.UUID], None],
) -> Callable[[Session], uuid.UUID]:
    """The service call of a form: create a row, or update ``row_id``; either returns its id."""
    if row_id is None:
        return create

    def run(s: Session) -> uuid.UUID:
        update(s, row_id)
        return row_id

    return run


def chosen_contact(picker: ContactPicker, account_id: uuid.UUID | None) -> uuid.UUID | None:
    """The contact picked, or None for an account's own note; explained when neither is there."""
    contact_id = picker.contact_id()
    if contact_id is None and account_id is None:
        raise ValidationError({"contact_id": "Choose a contact from the list"})
    return contact_id


def _picker(ctx: AppContext, contact: tuple[uuid.UUID, str] | None) -> ContactPicker:
    picker = ContactPicker(ctx)
    if contact is not None:
        picker.set_contact(*contact)
    return picker


class NoteDialog(FormDialog):
    entity = Note
    """Log an interaction. ``contact`` is (id, label) when opened from a contact."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        contact: tuple[uuid.UUID, str] | None = None,
        account_id: uuid.UUID | None = None,
        row: NoteRow | None = None,
        channel: str = "call",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, "Edit note" if row else "New note", parent)
        self._id = row.id if row else None
        self._account_id = row.account_id if row else account_id
        if row is not None and row.contact_id is not None:
            contact = (row.contact_id, row.contact_name)
        self.contact = self.add_field("contact_id", "Contact", _picker(ctx, contact))
        when = QDateTimeEdit(
            QDateTime.currentDateTime() if row is None else to_qdatetime(row.occurred_at.astimezone())
        )
        when.setCalendarPopup(True)
        when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when = self.add_field("occurred_at", "When", when)
        self.channel = self.add_field(
            "channel", "Channel", _combo(CHANNEL_LABELS, row.channel if row else channel)
        )
        self.summary_edit = self.add_field("summary", "Summary", QLineEdit(row.summary if row else ""))
        self.summary_edit.setPlaceholderText("What happened, in one line")
        self.body = self.add_field("body", "Details", _text_box(140))
        self.body.setPlainText(row.body if row else "")

    def save_action(self) -> Callable[[Session], uuid.UUID]:
        contact_id = chosen_contact(self.contact, self._account_id)
        occurred = from_qdatetime(self.when.dateTime())
        inp = NoteInput(
            summary=self.summary_edit.text(),
            channel=self.channel.currentData(),
            body=self.body.toPlainText(),
            occurred_at=occurred.astimezone(UTC),  # the rep typed local time
            contact_id=contact_id,
            account_id=None if contact_id else self._account_id,
        )
        return saving(self._id, lambda s: notes.add_note(s, inp), lambda s, i: notes.update_note(s, i, inp))


class CommitmentDialog(FormDialog):
    entity = Commitment

    def __init__(
        self,
        ctx: AppContext,
        *,
        contact: tuple[uuid.UUID, str] | None = None,
        account_id: uuid.UUID | None = None,
        row: CommitmentRow | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, "Edit commitment" if row else "New commitment", parent)
        self._id = row.id if row else None
        self._account_id = row.account_id if row else account_id
        if row is not None and row.contact_id is not None:
            contact = (row.contact_id, row.contact_name)
        self.contact = self.add_field("contact_id", "With", _picker(ctx, contact))
        self.direction = self.add_field(
            "direction", "Who promised", _combo(DIRECTION_LABELS, row.direction if row else "we")
        )
        self.what = self.add_field("what", "What", QLineEdit(row.what if row else ""))
        self.what.setPlaceholderText("e.g. Send the revised quote")
        # A QDateEdit turned a date typed after a click into another one (2026-12-09 typed into
        # the day section gave 2026-12-12): the shared optional-date field keeps what is typed.
        self.due = self.add_field("due_date", "Due", OptionalDateEdit(row.due_date if row else None))

    def save_action(self) -> Callable[[Session], uuid.UUID]:
        contact_id = chosen_contact(self.contact, self._account_id)
        inp = CommitmentInput(
            what=self.what.text(),
            direction=self.direction.currentData(),
            due_date=self.due.date_text(),
            contact_id=contact_id,
            account_id=None if contact_id else self._account_id,
        )
        return saving(
            self._id,
            lambda s: commitments.add_commitment(s, inp),
            lambda s, i: commitments.update_commitment(s, i, inp),
        )


def when_text(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


__all__ = ["AccountDialog", "CommitmentDialog", "ContactDialog", "NoteDialog", "when_text"]
