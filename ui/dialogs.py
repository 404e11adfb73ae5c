"""The edit dialogs: contact, account, note, commitment."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QLineEdit,
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
from ui.field_editors import combo, text_box
from ui.forms import ContactPicker, FormDialog, OptionalDateEdit, on_edit
from ui.match_warning import MatchWarning
from ui.qt_dates import from_qdatetime, to_qdatetime
from ui.settings import load_preferences

KIND_LABELS = {k: k.capitalize() for k in contacts.KINDS}
CHANNEL_LABELS = notes.CHANNEL_LABELS  # one mapping, shared with the briefing sheet
DIRECTION_LABELS = {"we": "We promised them", "they": "They promised us"}


class ContactDialog(FormDialog):
    entity = Contact
    existing_open_requested = Signal(object)  # a likely duplicate's id: open it instead

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
        self.add_described(inp)  # every field, its label, hint and order: models.entities.Contact
        self._cadence_default = ""
        if detail is None:  # a new contact starts with the cadence Preferences give its kind
            self._cadence_defaults = load_preferences().cadence
            self._fill_cadence_default()
            self._kind().currentIndexChanged.connect(lambda _i: self._fill_cadence_default())
            # The person may be here already: say so while the rep types, with a way to open them.
            self.match_warning = MatchWarning(ctx, self._match_values)
            self.match_warning.open_requested.connect(self._on_open_existing)
            self._outer.insertWidget(1, self.match_warning)
            for key in ("name", "account_id", "emails", "phones"):
                editor = self.editor(key)
                for widget in (editor, *editor.findChildren(QWidget)):
                    on_edit(widget, self.match_warning.changed)

    def _match_values(self) -> tuple[str, uuid.UUID | None, list[str], list[str]]:
        values = self.described_values()
        return values["name"], values["account_id"], values["emails"], values["phones"]

    def _on_open_existing(self, contact_id: object) -> None:
        # The rep chose the existing contact over a second copy: nothing typed here is saved.
        self.existing_open_requested.emit(contact_id)
        self.reject()

    def _kind(self) -> QComboBox:
        kind = self.editor("kind")
        assert isinstance(kind, QComboBox)
        return kind

    def _fill_cadence_default(self) -> None:
        # Never over what the rep typed: only an empty field or the previous kind's default.
        cadence = self.editor("cadence_days")
        assert isinstance(cadence, QLineEdit)
        if cadence.text().strip() not in ("", self._cadence_default):
            return
        days = self._cadence_defaults.get(self._kind().currentData())
        self._cadence_default = "" if days is None else str(days)
        cadence.setText(self._cadence_default)

    def collect(self) -> ContactInput:
        return ContactInput(**self.described_values())

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
        self.add_described(row or AccountInput(name=""))  # models.entities.Account

    def save_action(self) -> Callable[[Session], uuid.UUID]:
        inp = AccountInput(**self.described_values())
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
            "channel", "Channel", combo(CHANNEL_LABELS, row.channel if row else channel)
        )
        self.summary_edit = self.add_field("summary", "Summary", QLineEdit(row.summary if row else ""))
        self.summary_edit.setPlaceholderText("What happened, in one line")
        self.body = self.add_field("body", "Details", text_box(140))
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
            "direction", "Who promised", combo(DIRECTION_LABELS, row.direction if row else "we")
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
