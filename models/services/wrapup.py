"""The visit wrap-up: mark it done with its note and commitments, and in the same transaction
the feedback heard and the order taken in the meeting.

One action, one transaction: any bad field anywhere saves nothing, and every bad field is
named at once (the feedback's under ``feedback.<field>``, the order's under ``order.<field>``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

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
        feedback_id = _add_part(session, "feedback", add_feedback, wrap.feedback, account_id, errors)
    if wrap.order is not None:
        purchase_id = _add_part(session, "order", add_purchase, wrap.order, account_id, errors)
    raise_if(errors)
    return WrapUpResult(feedback_id, purchase_id)


Part = TypeVar("Part", FeedbackInput, PurchaseInput)


def _add_part(
    session: Session,
    prefix: str,
    add: Callable[[Session, Part], uuid.UUID],
    part: Part,
    account_id: uuid.UUID | None,
    errors: dict[str, str],
) -> uuid.UUID | None:
    """Save the feedback or the order; one without a contact is the visit's account's. Its bad
    fields are added to ``errors`` as ``<prefix>.<field>``."""
    if part.contact_id is None and part.account_id is None:
        part = replace(part, account_id=account_id)
    try:
        return add(session, part)
    except ValidationError as exc:
        errors.update({f"{prefix}.{key}": why for key, why in exc.field_errors.items()})
        return None
