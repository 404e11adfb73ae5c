"""The visit wrap-up: mark it done with its note and commitments, and in the same transaction
the feedback heard and the order taken in the meeting.

One action, one transaction: any bad field anywhere saves nothing, and every bad field is
named at once (the feedback's under ``feedback.<field>``, the order's under ``order.<field>``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from models.entities import Visit
from models.errors import ValidationError
from models.services.common import get_live
from models.services.feedback import FeedbackInput, add_feedback
from models.services.purchases import PurchaseInput, add_purchase
from models.services.visits import VisitOutcome, complete_visit
from models.validation import raise_if


@dataclass
class WrapUp:
    outcome: VisitOutcome
    feedback: FeedbackInput | None = None  # None: no feedback heard
    order: PurchaseInput | None = None  # None: no order taken


@dataclass(frozen=True, slots=True)
class WrapUpResult:
    feedback_id: uuid.UUID | None
    purchase_id: uuid.UUID | None


def wrap_up_visit(session: Session, visit_id: uuid.UUID, wrap: WrapUp) -> WrapUpResult:
    """Complete the visit; feedback and an order without a contact are the visit's account's."""
    account_id = get_live(session, Visit, visit_id, "visit").account_id
    errors: dict[str, str] = {}
    try:
        complete_visit(session, visit_id, wrap.outcome)
    except ValidationError as exc:
        errors.update(exc.field_errors)
    feedback_id = purchase_id = None
    if wrap.feedback is not None:
        heard = wrap.feedback
        if heard.contact_id is None and heard.account_id is None:
            heard = replace(heard, account_id=account_id)
        try:
            feedback_id = add_feedback(session, heard)
        except ValidationError as exc:
            errors.update({f"feedback.{key}": why for key, why in exc.field_errors.items()})
    if wrap.order is not None:
        order = wrap.order
        if order.contact_id is None and order.account_id is None:
            order = replace(order, account_id=account_id)
        try:
            purchase_id = add_purchase(session, order)
        except ValidationError as exc:
            errors.update({f"order.{key}": why for key, why in exc.field_errors.items()})
    raise_if(errors)
    return WrapUpResult(feedback_id, purchase_id)
