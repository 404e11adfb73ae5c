"""Quick follow-ups: a commitment made from a note, remembering the note it came from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models.entities import Commitment, Note
from models.services import commitments
from models.services.commitments import CommitmentInput
from models.services.common import get_live


@dataclass(frozen=True, slots=True)
class FollowUpDraft:
    """What the commitment dialog starts from: the note's summary, contact and account."""

    note_id: uuid.UUID
    what: str
    contact_id: uuid.UUID | None
    account_id: uuid.UUID | None


def draft_from_note(session: Session, note_id: uuid.UUID) -> FollowUpDraft:
    note = get_live(session, Note, note_id, "note")
    return FollowUpDraft(note.id, note.summary, note.contact_id, note.account_id)


def add_followup(session: Session, note_id: uuid.UUID, inp: CommitmentInput) -> uuid.UUID:
    """Add the commitment with ``note_id`` set: one create, so sync sends it whole."""
    get_live(session, Note, note_id, "note")  # a note deleted meanwhile is said, not linked to
    row = Commitment(**commitments.clean_commitment(session, inp), note_id=note_id)
    session.add(row)
    session.flush()
    return row.id
