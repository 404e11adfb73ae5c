"""Issue 12: every playbook row and column travels between two laptops through a real server.

Thank-yous (appreciations), snoozes, feedback, purchases, the contact's cadence maximum, stake
role and referrer, and the commitment's origin (note_id, feedback_id): created on one laptop,
edited, deleted and restored, and two laptops editing different fields of one row both kept.
SQLite and PostgreSQL servers (the ``backend`` fixture), real HTTP on loopback.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from models.entities import Appreciation, Commitment, Feedback, Note, Purchase, Snooze, SyncedMixin
from models.services.trash import restore
from models.types import utcnow
from sync.conflicts import list_conflicts
from tests.support.sync_support import Laptop, contact

GIVEN = datetime(2026, 2, 28, 16, 30, tzinfo=UTC)


def _converge(*laps: Laptop) -> None:
    for lap in laps:
        lap.sync()
    for lap in laps:
        lap.sync()


def _fields(lap: Laptop, entity: str, row_id: uuid.UUID, names: tuple[str, ...]) -> dict[str, Any]:
    obj = lap.get(entity, row_id)
    assert obj is not None, f"{entity} {row_id} did not arrive"
    return {n: getattr(obj, n) for n in names}


def _same_aware(value: Any) -> Any:
    # SQLite hands back naive UTC datetimes: compare them as aware ones.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _rows(
    cid: uuid.UUID, referrer: uuid.UUID, note_id: uuid.UUID, feedback_id: uuid.UUID
) -> list[tuple[SyncedMixin, dict[str, Any]]]:
    """Each new kind of row, and the edit the test makes to it afterwards."""
    return [
        (
            Appreciation(
                given_at=GIVEN,
                kind="gift",
                reason="referral",
                reason_id=referrer,
                summary="Wine for the Hansen referral",
                contact_id=cid,
            ),
            {"kind": "call", "summary": "Called to thank her"},
        ),
        (Snooze(item=f"checkin:{cid}", until=date(2026, 3, 1), contact_id=cid), {"until": None}),
        (
            Feedback(received_at=GIVEN, score=4, comment="Slow delivery", contact_id=cid),
            {"score": 6, "comment": "Slow delivery, better since"},
        ),
        (
            Purchase(
                purchased_on=date(2024, 2, 29),
                product="Pallet racking",
                quantity=12,
                amount_cents=1_250_000,
                currency="EUR",
                contact_id=cid,
            ),
            {"quantity": 14, "amount_cents": 1_480_000},
        ),
        (
            Commitment(
                what="Send the revised quote", contact_id=cid, note_id=note_id, feedback_id=feedback_id
            ),
            {"note_id": None, "what": "Send the revised quote (v2)"},
        ),
    ]


def test_each_playbook_row_created_edited_deleted_restored(laptops: Callable[..., Laptop]) -> None:
    a, b = laptops("ann"), laptops("bob")
    referrer = a.add(contact("Hansen"))
    cid = a.add(
        contact("Grace", cadence_days=30, cadence_max_days=60, stake_role="champion", referred_by_id=referrer)
    )
    note_id = a.add(Note(summary="Asked for a quote", contact_id=cid))
    feedback_id = uuid.uuid4()  # a plain uuid: where the promise came from, no foreign key
    rows = _rows(cid, referrer, note_id, feedback_id)
    ids = [a.add(obj) for obj, _edit in rows]
    a.sync()
    b.sync()

    person = _fields(b, "contact", cid, ("cadence_max_days", "stake_role", "referred_by_id"))
    assert person == {"cadence_max_days": 60, "stake_role": "champion", "referred_by_id": referrer}
    for (obj, edit), row_id in zip(rows, ids, strict=True):
        names = tuple(edit) + (("given_at", "reason", "reason_id") if isinstance(obj, Appreciation) else ())
        there = {k: _same_aware(v) for k, v in _fields(b, obj.__entity__, row_id, names).items()}
        assert there == {n: _same_aware(getattr(obj, n)) for n in names}, obj.__entity__
    promise = _fields(b, "commitment", ids[-1], ("note_id", "feedback_id"))
    assert promise == {"note_id": note_id, "feedback_id": feedback_id}

    # An edit on the second laptop reaches the first.
    b.edit("contact", cid, cadence_max_days=90, stake_role="decision_maker", referred_by_id=None)
    for (obj, edit), row_id in zip(rows, ids, strict=True):
        b.edit(obj.__entity__, row_id, **edit)
    _converge(b, a)
    person = _fields(a, "contact", cid, ("cadence_max_days", "stake_role", "referred_by_id"))
    assert person == {"cadence_max_days": 90, "stake_role": "decision_maker", "referred_by_id": None}
    for (obj, edit), row_id in zip(rows, ids, strict=True):
        assert _fields(a, obj.__entity__, row_id, tuple(edit)) == edit, obj.__entity__

    # A delete on the first laptop reaches the second; a restore brings the row back there.
    for (obj, _edit), row_id in zip(rows, ids, strict=True):
        a.edit(obj.__entity__, row_id, deleted_at=utcnow())
    _converge(a, b)
    for (obj, _edit), row_id in zip(rows, ids, strict=True):
        assert b.get(obj.__entity__, row_id).deleted_at is not None, obj.__entity__
    with a.db.write() as s:
        for (obj, _edit), row_id in zip(rows, ids, strict=True):
            restore(s, obj.__entity__, row_id)
    _converge(a, b)
    for (obj, edit), row_id in zip(rows, ids, strict=True):
        there = b.get(obj.__entity__, row_id)
        assert there.deleted_at is None, obj.__entity__
        assert _fields(b, obj.__entity__, row_id, tuple(edit)) == edit  # restored as it was
    assert a.snapshot() == b.snapshot()
    with a.db.read() as s:
        assert list_conflicts(s) == []


@pytest.mark.parametrize(
    ("entity", "make", "mine", "theirs"),
    [
        (
            "appreciation",
            lambda cid: Appreciation(given_at=GIVEN, summary="Thanks", contact_id=cid),
            {"kind": "event"},
            {"summary": "Invited to the open day"},
        ),
        (
            "feedback",
            lambda cid: Feedback(received_at=GIVEN, score=8, comment="", contact_id=cid),
            {"score": 9},
            {"comment": "Quick answers"},
        ),
        (
            "purchase",
            lambda cid: Purchase(purchased_on=date(2025, 12, 31), product="Shelving", contact_id=cid),
            {"quantity": 3},
            {"amount_cents": 90_000},
        ),
        (
            "snooze",
            lambda cid: Snooze(item=f"checkin:{cid}", until=date(2026, 1, 31), contact_id=cid),
            {"until": date(2026, 2, 28)},
            {"item": "followup7:elsewhere"},
        ),
        ("contact", None, {"cadence_max_days": 45}, {"stake_role": "gatekeeper"}),
        (
            "commitment",
            lambda cid: Commitment(what="Call back", contact_id=cid),
            {"note_id": uuid.UUID(int=7)},
            {"feedback_id": uuid.UUID(int=9)},
        ),
    ],
)
def test_two_laptops_editing_different_fields_keep_both(
    laptops: Callable[..., Laptop],
    entity: str,
    make: Callable[[uuid.UUID], SyncedMixin] | None,
    mine: dict[str, Any],
    theirs: dict[str, Any],
) -> None:
    a, b = laptops("ann"), laptops("bob")
    cid = a.add(contact("Grace", referred_by_id=None))
    row_id = cid if make is None else a.add(make(cid))
    a.sync()
    b.sync()
    a.edit(entity, row_id, **mine)
    b.edit(entity, row_id, **theirs)
    _converge(a, b)
    for lap in (a, b):
        assert _fields(lap, entity, row_id, (*mine, *theirs)) == mine | theirs
        with lap.db.read() as s:
            assert list_conflicts(s) == []
    assert a.snapshot() == b.snapshot()


# Migration 0007 makes every logged touch move a contact's last contact, by triggers like the
# notes' (0004): a pulled thank-you or feedback counts as much as one typed here.
@pytest.mark.parametrize("touch", ["appreciation", "feedback"])
def test_a_pulled_touch_moves_the_contacts_last_contact(laptops: Callable[..., Laptop], touch: str) -> None:
    a, b = laptops("ann"), laptops("bob")
    cid = a.add(contact("Grace"))
    a.add(Note(summary="First call", contact_id=cid, occurred_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC)))
    a.sync()
    b.sync()
    assert _same_aware(b.get("contact", cid).last_contact_at) == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    row: SyncedMixin = (
        Appreciation(given_at=GIVEN, summary="Thanks", contact_id=cid)
        if touch == "appreciation"
        else Feedback(received_at=GIVEN, score=9, contact_id=cid)
    )
    a.add(row)
    a.sync()
    b.sync()
    assert _same_aware(b.get("contact", cid).last_contact_at) == GIVEN


def test_a_deleted_note_and_commitment_reach_the_other_laptop_and_come_back(
    laptops: Callable[..., Laptop],
) -> None:
    """The contact page's delete and undo (notes.delete_note, commitments.delete_commitment,
    trash.restore) travel as a delete and a restore."""
    from models.services import commitments, followups, notes
    from models.services.commitments import CommitmentInput

    a, b = laptops("ann"), laptops("bob")
    cid = a.add(contact("Grace"))
    nid = a.add(Note(summary="Asked for a quote", contact_id=cid))
    with a.db.write() as s:
        pid = followups.add_followup(s, nid, CommitmentInput(what="Send the quote", contact_id=cid))
    _converge(a, b)
    assert b.get("commitment", pid).note_id == nid
    with a.db.write() as s:
        notes.delete_note(s, nid)
        commitments.delete_commitment(s, pid)
    _converge(a, b)
    assert b.get("note", nid).deleted_at is not None and b.get("commitment", pid).deleted_at is not None
    with b.db.write() as s:  # undone on the other laptop this time
        restore(s, "note", nid)
        restore(s, "commitment", pid)
    _converge(b, a)
    assert a.get("note", nid).deleted_at is None and a.get("commitment", pid).deleted_at is None
    assert a.snapshot() == b.snapshot()
