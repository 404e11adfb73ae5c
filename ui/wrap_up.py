"""The wrap-up's playbook parts (``CompleteVisitDialog``): the feedback heard, the order taken,
and booking the next visit.

They save with the visit in one transaction (``models.services.wrapup``). After the save a
detractor's score opens the suggested follow-up, an order by a person offers a thank-you, and
"Book the next visit" opens the visit dialog with the same account and people.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QLineEdit, QWidget

from models.errors import ValidationError
from models.rows import VisitRow
from models.services import feedback
from models.services.feedback import FeedbackInput
from models.services.purchases import AMOUNT_HINT, PurchaseInput
from models.services.wrapup import WrapUpResult
from ui.feedback_dialog import SCORE_HINT, FollowUpDialog, suggest_follow_up
from ui.forms import FormDialog
from ui.purchase_dialog import OrderFields, offer_purchase_thanks, quick_checks

NEXT_VISIT_WEEKS = 4  # the next visit's suggested day, a month on; the rep changes it in the form


class WrapUpExtras:
    """Adds its rows to the wrap-up ``dialog`` and reads them back."""

    def __init__(self, dialog: FormDialog, visit: VisitRow) -> None:
        self.dialog, self.visit = dialog, visit
        self.who = QComboBox()
        for cid, name in zip(visit.contact_ids, visit.contact_names, strict=True):
            self.who.addItem(name, str(cid))
        if visit.account_id is not None:
            self.who.addItem(f"{visit.account_name} (the account as a whole)", None)
        self.score = QLineEdit()
        self.score.setPlaceholderText("0–10, empty if not asked")
        self.score.setMaxLength(4)
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("What they said about us")
        self.order = OrderFields()
        self.next_visit = QCheckBox("Book the &next visit (same account and people)")
        self.followup: FollowUpDialog | None = None
        self.next_dialog: QDialog | None = None
        self._sent: tuple[FeedbackInput | None, PurchaseInput | None] = (None, None)
        add = dialog.add_field
        add("feedback.contact_id", "Feedback f&rom", self.who)
        add("feedback.score", "Sc&ore", self.score, SCORE_HINT)
        add("feedback.comment", "Their &words", self.comment)
        add("order.product", "Order: &product", self.order.product, "Empty if no order was taken")
        add("order.quantity", "&Quantity", self.order.quantity)
        add("order.amount", "&Amount", self.order.amount, AMOUNT_HINT)
        add("order.currency", "C&urrency", self.order.currency)
        add("next_visit", "", self.next_visit)

    def _chosen(self) -> uuid.UUID | None:
        data = self.who.currentData()
        return uuid.UUID(data) if data else None

    def values(self) -> tuple[FeedbackInput | None, PurchaseInput | None]:
        """The feedback and the order to save (None for each left empty); the checks that need
        no database raise at once."""
        contact_id = self._chosen()
        heard: FeedbackInput | None = None
        errs: dict[str, str] = {}
        if self.score.text().strip() or self.comment.text().strip():
            heard = FeedbackInput(
                score=self.score.text(),
                comment=self.comment.text(),
                received_at=min(self.visit.starts_at, datetime.now(UTC)),
                contact_id=contact_id,
            )
            feedback.parse_score(heard.score, errs)
        order: PurchaseInput | None = None
        typed = (self.order.product, self.order.amount)
        if any(w.text().strip() for w in typed):
            order = self.order.value(min(self.visit.starts_at.astimezone().date(), date.today()), contact_id)
            try:
                quick_checks(order)
            except ValidationError as exc:
                errs.update(exc.field_errors)
        errs = {(f"feedback.{k}" if k == "score" else f"order.{k}"): why for k, why in errs.items()}
        if errs:
            raise ValidationError(errs)
        self._sent = (heard, order)
        return heard, order

    def after_save(self, result: object) -> None:
        """The offers and dialogs that follow a saved wrap-up (see the module's text)."""
        if not isinstance(result, WrapUpResult):
            return
        heard, order = self._sent
        contact_id = self._chosen()
        name = self.who.currentText()
        parent = self.dialog.parentWidget()
        if order is not None and result.purchase_id is not None and contact_id is not None:
            offer_purchase_thanks(self.dialog.ctx, result.purchase_id, contact_id, name, order)
        if heard is not None and result.feedback_id is not None:
            contact = (contact_id, name) if contact_id else None
            heard.account_id = None if contact_id else self.visit.account_id
            self.followup = suggest_follow_up(self.dialog.ctx, parent, result.feedback_id, heard, contact)
        if self.next_visit.isChecked():
            if self.followup is not None:  # one dialog at a time: the next visit after the follow-up
                self.followup.finished.connect(lambda _r: self.book_next(parent))
            else:
                self.book_next(parent)

    def book_next(self, parent: QWidget | None) -> QDialog:
        from ui.visit_dialog import VisitDialog  # the wrap-up lives in that module

        day = self.visit.starts_at.astimezone().date() + timedelta(weeks=NEXT_VISIT_WEEKS)
        self.next_dialog = VisitDialog(
            self.dialog.ctx,
            parent,
            day=max(day, date.today() + timedelta(days=1)),
            account_id=self.visit.account_id,
            contact_ids=self.visit.contact_ids,
        )
        self.next_dialog.open()
        return self.next_dialog
