"""Record what a customer thinks of us: a 0-10 score and their words, on a contact or an account.

A detractor (0-6) is owed a follow-up: once their feedback is saved the commitment dialog opens
pre-filled (``FollowUpDialog``, linked to the feedback); the rep saves it or closes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, timedelta

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLineEdit, QWidget
from sqlalchemy.orm import Session

from models.entities import Feedback
from models.errors import ValidationError
from models.services import feedback
from models.services.commitments import CommitmentInput
from models.services.feedback import FeedbackInput, FeedbackRow
from models.services.nps import classify
from ui.context import AppContext
from ui.dialogs import CommitmentDialog, _picker, saving
from ui.field_editors import text_box
from ui.forms import FormDialog
from ui.qt_dates import datetime_edit, from_qdatetime
from ui.record_fields import picked_contact

SCORE_HINT = "0 (not at all likely to recommend us) to 10 (extremely likely); empty for words only"
FOLLOW_UP_DAYS = 2  # a detractor is called back within days, not weeks


def is_detractor(score: int | None) -> bool:
    return score is not None and classify(score) == "detractor"


class FollowUpDialog(CommitmentDialog):
    """The commitment suggested after a detractor's feedback, linked to it (``feedback_id``)."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        feedback_id: uuid.UUID,
        score: int,
        comment: str,
        contact: tuple[uuid.UUID, str] | None,
        account_id: uuid.UUID | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, contact=contact, account_id=account_id, parent=parent)
        self.feedback_id = feedback_id
        self.setWindowTitle("Follow up on their feedback")
        said = f": “{comment}”" if comment else ""
        self.what.setText(f"Call back about their {score}/10{said}"[:500])
        self.due.setText((date.today() + timedelta(days=FOLLOW_UP_DAYS)).isoformat())
        self._advice = (
            f"They scored us {score}/10. A follow-up is suggested: save it, change it, or close"
            " this window (Escape) to skip it."
        )
        self.summary.setStyleSheet("")  # advice, not an error

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.summary.text():  # once laid out, so the dialog grows to hold the advice
            self.show_message(self._advice)

    def first_to_fill(self) -> QWidget:
        return self.what  # the rest is filled; what to do is what the rep may want to change

    def save_action(self) -> Callable[[Session], uuid.UUID]:
        contact_id = picked_contact(self.contact, self._account_id)
        inp = CommitmentInput(
            what=self.what.text(),
            direction=self.direction.currentData(),
            due_date=self.due.date_text(),
            contact_id=contact_id,
            account_id=None if contact_id else self._account_id,
        )
        feedback_id = self.feedback_id
        return lambda s: feedback.add_followup(s, feedback_id, inp)


def suggest_follow_up(
    ctx: AppContext,
    parent: QWidget | None,
    feedback_id: uuid.UUID,
    inp: FeedbackInput,
    contact: tuple[uuid.UUID, str] | None,
) -> FollowUpDialog | None:
    """Open the pre-filled follow-up for a detractor's feedback (None for anyone else)."""
    score = feedback.parse_score(inp.score, {})
    if not is_detractor(score):
        return None
    assert score is not None
    dialog = FollowUpDialog(
        ctx,
        feedback_id=feedback_id,
        score=score,
        comment=inp.comment.strip(),
        contact=contact,
        account_id=None if contact else inp.account_id,
        parent=parent,
    )
    dialog.open()
    return dialog


class FeedbackDialog(FormDialog):
    """Record (or edit, given ``row``) feedback from a contact, or about an account as a whole."""

    entity = Feedback

    def __init__(
        self,
        ctx: AppContext,
        *,
        contact: tuple[uuid.UUID, str] | None = None,
        account_id: uuid.UUID | None = None,
        row: FeedbackRow | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, "Edit feedback" if row else "Record feedback", parent)
        self._row = row
        self._account_id = row.account_id if row else account_id
        if row is not None and row.contact_id is not None:
            contact = (row.contact_id, row.contact_name)
        self.followup: FollowUpDialog | None = None
        hint = "Empty: about the account as a whole" if self._account_id else ""
        self.contact = self.add_field("contact_id", "&From", _picker(ctx, contact), hint)
        score = "" if row is None or row.score is None else str(row.score)
        self.score = self.add_field("score", "&Score", QLineEdit(score), SCORE_HINT)
        self.score.setPlaceholderText("0–10")
        self.score.setMaxLength(4)
        self.comment = self.add_field("comment", "&Comment", text_box(90))
        self.comment.setPlainText(row.comment if row else "")
        self.comment.setPlaceholderText("What they said, in their words")
        when = datetime_edit(row.received_at if row else None)
        self.when = self.add_field("received_at", "&When", when)
        self._sent: FeedbackInput | None = None
        self.saved.connect(self._after_save)

    def first_to_fill(self) -> QWidget | None:
        return self.score if self.contact.text() else self.contact

    def collect(self) -> FeedbackInput:
        contact_id = picked_contact(self.contact, self._account_id)
        return FeedbackInput(
            score=self.score.text(),
            comment=self.comment.toPlainText(),
            received_at=from_qdatetime(self.when.dateTime()).astimezone(UTC),  # typed as local time
            contact_id=contact_id,
            account_id=None if contact_id else self._account_id,
        )

    def save_action(self) -> Callable[[Session], uuid.UUID]:
        inp = self._sent = self.collect()
        errs: dict[str, str] = {}
        feedback.parse_score(inp.score, errs)  # said at once, before any round trip
        if errs:
            raise ValidationError(errs)
        return saving(
            self._row.id if self._row else None,
            lambda s: feedback.add_feedback(s, inp),
            lambda s, i: feedback.update_feedback(s, i, inp),
        )

    def _after_save(self, feedback_id: object) -> None:
        inp = self._sent
        if inp is None or not isinstance(feedback_id, uuid.UUID):
            return
        # An edit that leaves a detractor a detractor was followed up (or skipped) already.
        if self._row is not None and is_detractor(self._row.score):
            return
        contact_id = inp.contact_id
        contact = (contact_id, self.contact.text()) if contact_id else None
        self.followup = suggest_follow_up(self.ctx, self.parentWidget(), feedback_id, inp, contact)
