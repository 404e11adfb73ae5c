"""Log a thank-you (a note, a gift, a call, an event) to a contact, and the offers to log one.

An offer comes right after something worth thanking: a purchase recorded, a contact saved with
who referred them, a promise they made kept on time. It is a line in the window's status bar
with a button (Ctrl+Shift+T), never a modal question: the rep takes it or carries on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget
from sqlalchemy.orm import Session

from models.entities import Appreciation
from models.rows import CommitmentRow
from models.services import appreciation
from models.services.appreciation import KIND_LABELS, REASON_LABELS, ThanksInput, ThanksRow
from ui.context import AppContext
from ui.dialogs import _picker, chosen_contact, saving
from ui.field_editors import combo
from ui.forms import FormDialog
from ui.offers import ThanksOffer, offer_thanks, thanks_offers
from ui.qt_dates import datetime_edit, from_qdatetime


class ThanksDialog(FormDialog):
    """Log (or edit, given ``row``) a thank-you; ``reason``/``reason_id`` say what it is for."""

    entity = Appreciation

    def __init__(
        self,
        ctx: AppContext,
        *,
        contact: tuple[uuid.UUID, str] | None = None,
        row: ThanksRow | None = None,
        reason: str = "other",
        reason_id: uuid.UUID | None = None,
        summary: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, "Edit thank-you" if row else "Log a thank-you", parent)
        self._id = row.id if row else None
        self._reason_id = row.reason_id if row else reason_id
        if row is not None and row.contact_id is not None:
            contact = (row.contact_id, row.contact_name)
        self.contact = self.add_field("contact_id", "&To", _picker(ctx, contact))
        self.kind = self.add_field("kind", "&Kind", combo(KIND_LABELS, row.kind if row else "note"))
        self.summary_edit = self.add_field("summary", "&What", QLineEdit(row.summary if row else summary))
        self.summary_edit.setPlaceholderText("e.g. Handwritten card, a bottle of their favourite wine")
        self.reason = self.add_field("reason", "&For", combo(REASON_LABELS, row.reason if row else reason))
        when = datetime_edit(row.given_at if row else None)
        self.when = self.add_field("given_at", "W&hen", when)

    def save_action(self) -> Callable[[Session], uuid.UUID]:
        inp = ThanksInput(
            contact_id=chosen_contact(self.contact, None),
            kind=self.kind.currentData(),
            summary=self.summary_edit.text(),
            reason=self.reason.currentData(),
            reason_id=self._reason_id,
            given_at=from_qdatetime(self.when.dateTime()).astimezone(UTC),  # typed as local time
        )
        return saving(
            self._id,
            lambda s: appreciation.log_thanks(s, inp),
            lambda s, i: appreciation.update_thanks(s, i, inp),
        )


def kept_on_time(row: CommitmentRow, status: str, today: date) -> bool:
    """A promise *they* made, just marked done by its due date (or undated)."""
    return status == "done" and row.direction == "they" and (row.due_date is None or today <= row.due_date)


def offer_for_kept(ctx: AppContext, row: CommitmentRow, status: str) -> None:
    """Offer a thank-you when a customer's promise is marked kept on time."""
    if row.contact_id is not None and kept_on_time(row, status, date.today()):
        offer_thanks(
            ctx,
            ThanksOffer(
                row.contact_id,
                row.contact_name,
                "commitment",
                row.id,
                f"{row.contact_name} kept their word: “{row.what}”.",
            ),
        )


class ThanksOfferBar(QWidget):
    """The offer in the status bar: "Anna bought Widgets. [Log a thank-you…] [Not now]"."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thanks_offer_bar")
        self.ctx = ctx
        self.offer: ThanksOffer | None = None
        self.dialog: ThanksDialog | None = None
        self.text = QLabel()
        self.take_button = QPushButton("Log a thank-you…")
        self.take_button.setToolTip("Log a thank-you for this (Ctrl+Shift+T)")
        self.skip_button = QPushButton("Not now")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addWidget(self.take_button)
        layout.addWidget(self.skip_button)
        self.take_button.clicked.connect(self.take)
        self.skip_button.clicked.connect(self.dismiss)
        # The keyboard's way to the offer, wherever the focus is in the window.
        self.take_action = QAction("Log the offered thank-you", self)
        self.take_action.setShortcut(QKeySequence("Ctrl+Shift+T"))
        self.take_action.triggered.connect(self.take)
        self.take_action.setEnabled(False)
        thanks_offers(ctx).offered.connect(self.show_offer)
        self.hide()

    def show_offer(self, offer: ThanksOffer) -> None:
        self.offer = offer
        self.text.setText(f"{offer.message} Say thank you?")
        self.take_action.setEnabled(True)
        self.show()

    def dismiss(self) -> None:
        self.offer = None
        self.take_action.setEnabled(False)
        self.hide()

    def take(self) -> ThanksDialog | None:
        offer = self.offer
        if offer is None:
            return None
        self.dismiss()
        self.dialog = ThanksDialog(
            self.ctx,
            contact=(offer.contact_id, offer.contact_name),
            reason=offer.reason,
            reason_id=offer.reason_id,
            parent=self.window(),
        )
        self.dialog.open()
        return self.dialog
