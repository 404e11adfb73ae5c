"""The sample and demo data carry the playbook (issue 12), its rows pointing at the right things."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models.db import Database
from models.demo import fill_demo
from models.entities import Appreciation, Commitment, Contact, Feedback, Note, Purchase, Snooze
from models.types import utcnow


def test_sample_has_every_playbook_row_and_its_links_hold(db: Database) -> None:
    counts = fill_demo(db, contacts=200)
    today = utcnow().date()
    with db.read() as s:
        people = {c.id: c for c in s.scalars(select(Contact))}
        roles = {c.stake_role for c in people.values()}
        assert {"decision_maker", "influencer", "champion", "user", "gatekeeper"} <= roles
        assert all(c.kind == "customer" for c in people.values() if c.stake_role)
        assert any(c.cadence_max_days for c in people.values())
        assert all(
            c.cadence_max_days is None or (c.cadence_days and c.cadence_max_days > c.cadence_days)
            for c in people.values()
        )
        referred = [c for c in people.values() if c.referred_by_id is not None]
        assert referred and all(c.referred_by_id in people for c in referred)
        assert any(c.personal_dates for c in people.values())

        promises = list(s.scalars(select(Commitment)))
        assert len(promises) == counts["commitments"]
        from_notes = [c for c in promises if c.note_id is not None]
        assert from_notes
        for c in from_notes:
            note = s.get(Note, c.note_id)
            assert note is not None and note.contact_id == c.contact_id
        call_backs = [c for c in promises if c.feedback_id is not None]
        assert call_backs
        for c in call_backs:
            fb = s.get(Feedback, c.feedback_id)
            assert fb is not None and fb.score is not None and fb.score <= 6 and fb.contact_id == c.contact_id
        detractors = {f.id for f in s.scalars(select(Feedback).where(Feedback.score <= 6))}
        assert detractors - {c.feedback_id for c in call_backs}, "some detractors wait on Today"

        purchases = {p.id: p for p in s.scalars(select(Purchase))}
        assert len(purchases) == counts["purchases"]
        assert any(p.purchased_on >= today - timedelta(days=40) for p in purchases.values())
        thanks = list(s.scalars(select(Appreciation)))
        assert len(thanks) == counts["thank-yous"]
        assert {t.reason for t in thanks} == {"purchase", "referral", "commitment", "other"}
        for t in thanks:
            assert t.given_at <= utcnow()
            if t.reason == "purchase":
                bought = purchases[t.reason_id]  # type: ignore[index]
                assert bought.contact_id == t.contact_id and t.given_at.date() > bought.purchased_on
            if t.reason == "referral":
                assert people[t.reason_id].referred_by_id == t.contact_id  # type: ignore[index]
        thanked = {t.reason_id for t in thanks if t.reason == "purchase"}
        assert set(purchases) - thanked, "some thank-yous are owed"

        snoozes = list(s.scalars(select(Snooze)))
        assert len(snoozes) == counts["snoozed items"] >= 2
        for z in snoozes:
            kind, _, row_id = z.item.partition(":")
            assert kind in ("checkin", "thanks") and row_id
            assert z.until is None or z.until > today


def test_the_same_seed_makes_the_same_sample(db: Database, tmp_path: object) -> None:
    from pathlib import Path

    from models.db import open_database

    assert isinstance(tmp_path, Path)
    other = open_database(tmp_path / "again.sqlite", backup=False)
    try:
        fill_demo(db, contacts=60)
        fill_demo(other, contacts=60)
        for cls in (Contact, Appreciation, Snooze, Commitment):
            with db.read() as a, other.read() as b:
                mine = sorted((r.id, r.updated_at is not None) for r in a.scalars(select(cls)))
                theirs = sorted((r.id, r.updated_at is not None) for r in b.scalars(select(cls)))
            assert mine == theirs, cls.__name__
    finally:
        other.close()


def test_nothing_in_the_sample_happened_after_now(db: Database) -> None:
    """A promise due next week may be done already, but not done next week (Today listed
    thank-yous "since" days still to come)."""
    fill_demo(db, contacts=400)
    now = utcnow() + timedelta(seconds=5)
    with db.read() as s:
        done = [c.done_at for c in s.scalars(select(Commitment).where(Commitment.done_at.is_not(None)))]
        assert done and max(done) <= now
        assert max(s.scalars(select(Appreciation.given_at))) <= now
        assert max(s.scalars(select(Note.occurred_at))) <= now
        assert max(s.scalars(select(Feedback.received_at))) <= now
        assert max(s.scalars(select(Purchase.purchased_on))) <= now.date()
