"""Visits: the service (validation, the local day, completing with a note and commitments)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import errors
from models.db import Database
from models.entities import Commitment, Note, Visit
from models.services import visits
from models.services.accounts import AccountInput, create_account
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput, create_contact
from models.services.visits import VisitInput, VisitOutcome
from tests.briefing_data import TODAY, at


@pytest.fixture
def people(db: Database) -> dict[str, uuid.UUID]:
    with db.write() as s:
        acc = create_account(s, AccountInput("Cedar Foods", address="Via Roma 3, Milan"))
        anna = create_contact(s, ContactInput("Anna Rossi", account_id=acc))
        ben = create_contact(s, ContactInput("Ben Costa", account_id=acc))
    return {"account": acc, "anna": anna, "ben": ben}


def count(db: Database, cls: type) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(cls)) or 0)


def test_invalid_visit_names_every_bad_field_and_saves_nothing(db: Database) -> None:
    with pytest.raises(errors.ValidationError) as info, db.write() as s:
        visits.create_visit(s, VisitInput(starts_at="tomorrow-ish", duration_minutes="0"))
    assert set(info.value.field_errors) == {"starts_at", "duration_minutes", "account_id"}
    assert "not a date and time" in info.value.field_errors["starts_at"]
    with pytest.raises(errors.ValidationError) as info, db.write() as s:
        visits.create_visit(s, VisitInput(starts_at=None, account_id=uuid.uuid4()))
    assert set(info.value.field_errors) == {"starts_at", "account_id"}
    assert count(db, Visit) == 0


def test_location_defaults_to_the_account_address_and_account_to_the_contacts(
    db: Database, people: dict[str, uuid.UUID]
) -> None:
    with db.write() as s:
        vid = visits.create_visit(
            s, VisitInput(at(TODAY, 10), "30", contact_ids=[people["anna"], people["anna"]])
        )
    with db.read() as s:
        row = visits.get_visit(s, vid)
    assert row.location == "Via Roma 3, Milan"
    assert row.account_id == people["account"] and row.account_name == "Cedar Foods"
    assert row.contact_ids == (people["anna"],) and row.contact_names == ("Anna Rossi",)
    assert row.duration_minutes == 30 and row.status == "planned"


def test_a_day_lists_its_visits_in_time_order(db: Database, people: dict[str, uuid.UUID]) -> None:
    with db.write() as s:
        for hour in (16, 8, 12):
            visits.create_visit(
                s, VisitInput(at(TODAY, hour), account_id=people["account"], purpose=f"at {hour}")
            )
        visits.create_visit(s, VisitInput(at(TODAY + timedelta(days=1), 0, 30), account_id=people["account"]))
        visits.create_visit(
            s, VisitInput(at(TODAY - timedelta(days=1), 23, 30), account_id=people["account"])
        )
    with db.read() as s:
        day = visits.visits_on(s, TODAY)
    assert [v.purpose for v in day] == ["at 8", "at 12", "at 16"]
    assert all(v.starts_at.astimezone().date() == TODAY for v in day)


def test_edit_and_cancel(db: Database, people: dict[str, uuid.UUID]) -> None:
    with db.write() as s:
        vid = visits.create_visit(s, VisitInput(at(TODAY, 9), account_id=people["account"]))
    with db.write() as s:
        inp = visits.visit_input(visits.get_visit(s, vid))
        inp.agenda, inp.location = "Price list", "Their warehouse"
        visits.update_visit(s, vid, inp)
        visits.cancel_visit(s, vid)
    with db.read() as s:
        row = visits.get_visit(s, vid)
        assert (row.agenda, row.location, row.status) == ("Price list", "Their warehouse", "cancelled")
        assert visits.visits_on(s, TODAY, include_cancelled=False) == []
    with pytest.raises(errors.ValidationError), db.write() as s:
        visits.complete_visit(s, vid)


def test_completing_logs_a_visit_note_per_person_and_the_commitments(
    db: Database, people: dict[str, uuid.UUID]
) -> None:
    with db.write() as s:
        vid = visits.create_visit(s, VisitInput(at(TODAY, 9), contact_ids=[people["anna"], people["ben"]]))
    outcome = VisitOutcome(
        note_summary="Agreed the Christmas volumes",
        note_body="Both happy.",
        commitments=[
            CommitmentInput("Send the contract", due_date=TODAY + timedelta(days=3)),
            CommitmentInput("Confirm quantities", direction="they"),
        ],
    )
    with db.write() as s:
        visits.complete_visit(s, vid, outcome)
    with db.read() as s:
        assert visits.get_visit(s, vid).status == "done"
        logged = s.execute(select(Note.contact_id, Note.channel, Note.summary)).all()
        made = s.execute(select(Commitment.what, Commitment.contact_id, Commitment.account_id)).all()
    assert sorted(logged) == sorted(
        [(people[p], "visit", "Agreed the Christmas volumes") for p in ("anna", "ben")]
    )
    assert {m[0] for m in made} == {"Send the contract", "Confirm quantities"}
    assert all(m[1] == people["anna"] and m[2] == people["account"] for m in made)


def test_a_bad_commitment_rolls_the_whole_completion_back(db: Database, people: dict[str, uuid.UUID]) -> None:
    with db.write() as s:
        vid = visits.create_visit(s, VisitInput(at(TODAY, 9), contact_ids=[people["anna"]]))
    outcome = VisitOutcome(note_summary="Met", commitments=[CommitmentInput("  ", due_date="soon")])
    with pytest.raises(errors.ValidationError) as info, db.write() as s:
        visits.complete_visit(s, vid, outcome)
    assert set(info.value.field_errors) == {"commitments.0.what", "commitments.0.due_date"}
    with db.read() as s:
        assert visits.get_visit(s, vid).status == "planned"
    assert count(db, Note) == 0 and count(db, Commitment) == 0
