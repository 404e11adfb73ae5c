"""The edit dialogs: contact, account, note, commitment."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QLineEdit,
    QWidget,
)
from sqlalchemy.orm import Session

from models.entities import Account, Commitment, Contact, Note
from models.errors import ValidationError
from models.rows import AccountRow, CommitmentRow, ContactDetail, NoteRow
from models.services import accounts, commitments, contacts, followups, notes
from models.services.accounts import AccountInput
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput
from models.services.notes import NoteInput
from ui.context import AppContext
from ui.field_editors import combo, text_box
from ui.forms import ContactPicker, FormDialog, OptionalDateEdit, on_edit
from ui.match_warning import MatchWarning
from ui.offers import ThanksOffer, offer_thanks
from ui.qt_dates import datetime_edit, from_qdatetime

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
        self._referrer = detail.referred_by_id if detail else None
        self._sent: ContactInput | None = None
        self.saved.connect(self._offer_referral_thanks)
        if detail is None:
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

    def collect(self) -> ContactInput:
        self._sent = ContactInput(**self.described_values())
        return self._sent

    def _offer_referral_thanks(self, contact_id: object) -> None:
        """Someone newly named as the referrer is owed a thank-you: offer one."""
        inp = self._sent
        referrer = inp.referred_by_id if inp is not None else None
        if inp is None or referrer in (None, self._referrer) or not isinstance(contact_id, uuid.UUID):
            return
        assert referrer is not None
        picker = self.editor("referred_by_id")
        name = picker.text() if isinstance(picker, QLineEdit) else "They"
        message = f"{name} referred {inp.name.strip()}."
        offer_thanks(self.ctx, ThanksOffer(referrer, name, "referral", contact_id, message))

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
        self.when = self.add_field("occurred_at", "When", datetime_edit(row.occurred_at if row else None))
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
        draft: followups.FollowUpDraft | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``draft``: a follow-up of a note, pre-filled from it and remembering it (note_id)."""
        super().__init__(ctx, "Edit commitment" if row else "New commitment", parent)
        self._id = row.id if row else None
        self._note_id = draft.note_id if draft and not row else None
        self._account_id = row.account_id if row else draft.account_id if draft else account_id
        if row is not None and row.contact_id is not None:
            contact = (row.contact_id, row.contact_name)
        self.contact = self.add_field("contact_id", "With", _picker(ctx, contact))
        self.direction = self.add_field(
            "direction", "Who promised", combo(DIRECTION_LABELS, row.direction if row else "we")
        )
        self.what = self.add_field(
            "what", "What", QLineEdit(row.what if row else draft.what if draft else "")
        )
        self.what.setPlaceholderText("e.g. Send the revised quote")
        if draft is not None:
            # The note's words fill "What": the first key goes to the due date (first_to_fill).
            self.setWindowTitle("Follow up on a note")
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
        note_id = self._note_id
        if note_id is not None:
            return lambda s: followups.add_followup(s, note_id, inp)
        return saving(
            self._id,
            lambda s: commitments.add_commitment(s, inp),
            lambda s, i: commitments.update_commitment(s, i, inp),
        )


def when_text(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


__all__ = ["AccountDialog", "CommitmentDialog", "ContactDialog", "NoteDialog", "when_text"]
