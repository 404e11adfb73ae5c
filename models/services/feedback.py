"""Feedback: a customer's 0-10 score (for NPS) and what they said, on a contact or an account.

A detractor (0-6) is owed a follow-up: ``add_followup`` makes the commitment and records which
feedback it answers (``Commitment.feedback_id``), so Today can tell answered detractors apart.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from models.entities import Account, Commitment, Contact, Feedback
from models.services.commitments import CommitmentInput, add_commitment
from models.services.common import get_live
from models.services.nps import Category, classify
from models.services.owners import apply_changes, owner_account, stored_instant
from models.validation import check_storable, raise_if


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    id: uuid.UUID
    received_at: datetime
    score: int | None
    comment: str
    contact_id: uuid.UUID | None
    contact_name: str
    account_id: uuid.UUID | None
    account_name: str

    @property
    def category(self) -> Category | None:
        return None if self.score is None else classify(self.score)


@dataclass
class FeedbackInput:
    """What the form collects: the score as typed ("" for a comment without a score)."""

    score: int | str | None
    comment: str = ""
    received_at: datetime | None = None  # aware, or naive local time; None: now
    contact_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None


def parse_score(raw: int | str | None, errs: dict[str, str]) -> int | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        score = int(str(raw).strip())
    except ValueError:
        errs["score"] = f"“{raw}” is not a score: type a whole number from 0 to 10"
        return None
    if not 0 <= score <= 10:
        errs["score"] = f"A score is from 0 to 10, not {score}"
        return None
    return score


def clean_feedback(session: Session, inp: FeedbackInput) -> dict[str, Any]:
    errs: dict[str, str] = {}
    score = parse_score(inp.score, errs)
    comment = (inp.comment or "").strip()
    if score is None and not comment and "score" not in errs:
        errs["score"] = "Give a score from 0 to 10, or write what they said"
    values: dict[str, Any] = {
        "score": score,
        "comment": comment,
        "received_at": stored_instant(inp.received_at),
        "contact_id": inp.contact_id,
        "account_id": owner_account(session, inp.contact_id, inp.account_id, errs, "Feedback"),
    }
    check_storable(Feedback, values, errs)
    raise_if(errs)
    return values


def add_feedback(session: Session, inp: FeedbackInput) -> uuid.UUID:
    row = Feedback(**clean_feedback(session, inp))
    session.add(row)
    session.flush()
    return row.id


def update_feedback(session: Session, feedback_id: uuid.UUID, inp: FeedbackInput) -> None:
    row = get_live(session, Feedback, feedback_id, "feedback")
    apply_changes(row, clean_feedback(session, inp))


def add_followup(session: Session, feedback_id: uuid.UUID, inp: CommitmentInput) -> uuid.UUID:
    """The commitment that answers a feedback (usually a detractor's), linked to it."""
    get_live(session, Feedback, feedback_id, "feedback")
    commitment_id = add_commitment(session, inp)
    row = session.get(Commitment, commitment_id)
    assert row is not None
    row.feedback_id = feedback_id
    return commitment_id


@cache  # built once: making the statement cost more than running it (SQLAlchemy's coercions)
def _select() -> Select:
    c, a = aliased(Contact), aliased(Account)
    return (
        select(
            Feedback.id,
            Feedback.received_at,
            Feedback.score,
            Feedback.comment,
            Feedback.contact_id,
            func.coalesce(c.name, ""),
            Feedback.account_id,
            func.coalesce(a.name, ""),
        )
        .outerjoin(c, c.id == Feedback.contact_id)
        .outerjoin(a, a.id == Feedback.account_id)
        .where(Feedback.deleted_at.is_(None))
    )


def list_feedback(
    session: Session,
    *,
    contact_id: uuid.UUID | None = None,
    account_id: uuid.UUID | None = None,
    limit: int | None = 200,
) -> list[FeedbackRow]:
    """A contact's or an account's feedback (the account's own and its people's), newest first."""
    stmt = _select()
    if contact_id is not None:
        stmt = stmt.where(Feedback.contact_id == contact_id)
    if account_id is not None:
        people = select(Contact.id).where(Contact.account_id == account_id)
        stmt = stmt.where(or_(Feedback.account_id == account_id, Feedback.contact_id.in_(people)))
    stmt = stmt.order_by(Feedback.received_at.desc(), Feedback.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [FeedbackRow(*r) for r in session.execute(stmt)]


def last_feedback(session: Session, contact_id: uuid.UUID) -> FeedbackRow | None:
    rows = list_feedback(session, contact_id=contact_id, limit=1)
    return rows[0] if rows else None


def get_feedback(session: Session, feedback_id: uuid.UUID) -> FeedbackRow:
    get_live(session, Feedback, feedback_id, "feedback")
    return FeedbackRow(*session.execute(_select().where(Feedback.id == feedback_id)).one())
