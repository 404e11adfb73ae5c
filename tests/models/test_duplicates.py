"""Duplicates: the finder, the form's warning, the merge (and its undo) on a real SQLite file."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Column, ForeignKey, Integer, Table, Uuid, insert, select, text

from models import errors
from models.db import Database
from models.entities import (
    Appreciation,
    Base,
    Commitment,
    Contact,
    Feedback,
    Note,
    OutboxEntry,
    Purchase,
    Visit,
)
from models.services import accounts, contacts, duplicates, merging, trash
from models.services.accounts import AccountInput
from models.services.contacts import ContactInput


def add_contact(db: Database, name: str, **kw: object) -> uuid.UUID:
    with db.write() as s:
        return contacts.create_contact(s, ContactInput(name=name, **kw))  # type: ignore[arg-type]


def add_account(db: Database, name: str) -> uuid.UUID:
    with db.write() as s:
        return accounts.create_account(s, AccountInput(name=name))


def pairs(db: Database) -> set[frozenset[uuid.UUID]]:
    with db.read() as s:
        return {frozenset((p.first_id, p.second_id)) for p in duplicates.find_duplicates(s)}


def test_finder_same_email_phone_or_similar_name_at_one_account(db: Database) -> None:
    delta, other = add_account(db, "Delta Bakery"), add_account(db, "Other Ltd")
    anna = add_contact(db, "Anna Müller", account_id=delta, emails=["anna@delta.example"])
    anna2 = add_contact(db, "anna muller", account_id=delta)  # accents and case folded
    annie = add_contact(db, "Müller, Anna", emails=["ANNA@delta.example"])
    bob = add_contact(db, "Bob Stone", phones=["+44 20 7946 0958"])
    bob2 = add_contact(db, "Robert Stone", phones=["+442079460958"])
    add_contact(db, "Anna Muller", account_id=other, emails=["x@y.example"])  # same name elsewhere
    add_contact(db, "Carla Diaz", account_id=delta)
    found = pairs(db)
    assert frozenset((anna, anna2)) in found  # similar names, same account
    assert frozenset((anna, annie)) in found  # same email, another account, other case
    assert frozenset((bob, bob2)) in found  # same number, other formatting
    # Nothing else: a similar name at another account is not enough, nor a different name.
    assert len(found) == 3
    with db.read() as s:
        first = duplicates.find_duplicates(s)
    strongest = {p.reasons for p in first if {p.first_id, p.second_id} == {bob, bob2}}
    assert strongest == {("same phone +442079460958",)}


def test_finder_leaves_out_deleted_and_merged_contacts(db: Database) -> None:
    a = add_contact(db, "Dana Lee", emails=["dana@x.example"])
    b = add_contact(db, "Dana L.", emails=["dana@x.example"])
    with db.write() as s:
        contacts.delete_contact(s, b)
    assert pairs(db) == set()
    c = add_contact(db, "Dana Lee", emails=["dana@x.example"])
    with db.write() as s:
        merging.merge_contacts(s, a, c, {})
    assert pairs(db) == set()


def test_likely_matches_for_the_form(db: Database) -> None:
    delta = add_account(db, "Delta Bakery")
    anna = add_contact(db, "Anna Müller", account_id=delta, emails=["Anna@Delta.example"])
    bob = add_contact(db, "Bob Stone", phones=["+44 20 7946 0958"])
    add_contact(db, "Cy Ray", emails=["cyxray@ray.example"])
    with db.read() as s:
        underscore = duplicates.likely_matches(s, "C R", None, emails=["cy_ray@ray.example"])
        by_name = duplicates.likely_matches(s, "anna muller", delta)
        by_email = duplicates.likely_matches(s, "A. M.", None, emails=["anna@delta.example"])
        by_phone = duplicates.likely_matches(s, "Robert", None, phones=["+442079460958"])
        itself = duplicates.likely_matches(s, "Anna Müller", delta, exclude=anna)
        nobody = duplicates.likely_matches(s, "Zoe Park", delta, emails=["zoe@p.example"])
        # No account chosen yet: the same name anywhere (ASCII case ignored, % taken literally).
        no_account = duplicates.likely_matches(s, "bob STONE", None)
        wildcard = duplicates.likely_matches(s, "Bob%", None)
        elsewhere = duplicates.likely_matches(s, "Bob Stone", delta)  # at an account: its people
    assert [(m.id, m.name, m.account_name) for m in by_name] == [(anna, "Anna Müller", "Delta Bakery")]
    assert [m.id for m in by_email] == [anna] and by_email[0].reason == "same email anna@delta.example"
    assert [m.id for m in by_phone] == [bob]
    assert itself == [] and nobody == []
    assert [(m.id, m.reason) for m in no_account] == [(bob, "same name")]
    assert wildcard == [] and elsewhere == []
    assert underscore == []  # an underscore in an address is not a LIKE wildcard


def _everything_for(db: Database, cid: uuid.UUID, other: uuid.UUID) -> dict[str, uuid.UUID]:
    when = datetime(2026, 1, 5, tzinfo=UTC)
    rows = {
        "note": Note(summary="Called", contact_id=cid),
        "commitment": Commitment(what="Send quote", contact_id=cid),
        "feedback": Feedback(score=9, contact_id=cid),
        "purchase": Purchase(purchased_on=date(2026, 1, 2), product="Flour", contact_id=cid),
        "visit": Visit(starts_at=when, contact_ids=[str(cid), str(other)]),
        "visit_alone": Visit(starts_at=when, contact_ids=[str(cid)]),
    }
    with db.write() as s:
        s.add_all(rows.values())
        s.flush()
        return {k: v.id for k, v in rows.items()}


def test_merge_moves_everything_and_tombstones_with_a_pointer(db: Database) -> None:
    delta = add_account(db, "Delta Bakery")
    keep = add_contact(db, "Anna Müller", account_id=delta, emails=["anna@delta.example"], tags=["vip"])
    gone = add_contact(db, "Anna Muller", role="Buyer", emails=["am@home.example"], tags=["golf"])
    rows = _everything_for(db, gone, keep)
    with db.write() as s:
        before = s.scalar(select(OutboxEntry.seq).order_by(OutboxEntry.seq.desc()))
        fields = {f.name: f for f in merging.merge_fields(s, keep, gone)}
        assert fields["role"].default == "other"  # the survivor's is empty
        assert fields["emails"].default == "both" and fields["name"].default == "survivor"
        merging.merge_contacts(s, keep, gone, {f.name: f.default for f in fields.values()})
    with db.read() as s:
        survivor = s.get(Contact, keep)
        merged = s.get(Contact, gone)
        assert survivor is not None and merged is not None
        assert survivor.role == "Buyer" and survivor.name == "Anna Müller"
        assert survivor.emails == ["anna@delta.example", "am@home.example"]
        assert survivor.tags == ["vip", "golf"]
        assert merged.deleted_at is not None and merged.merged_into == keep
        for entity in ("note", "commitment", "feedback", "purchase"):
            row = s.get(
                {"note": Note, "commitment": Commitment, "feedback": Feedback, "purchase": Purchase}[entity],
                rows[entity],
            )
            assert row is not None and row.contact_id == keep, entity
        both = s.get(Visit, rows["visit"])
        alone = s.get(Visit, rows["visit_alone"])
        assert both is not None and both.contact_ids == [str(keep)]  # once, not twice
        assert alone is not None and alone.contact_ids == [str(keep)]
        # The pointer is queued before the delete: the server must apply them in that order.
        ops = [
            (e.op, sorted(e.patch))
            for e in s.scalars(
                select(OutboxEntry).where(OutboxEntry.seq > before, OutboxEntry.row_id == gone)
            )
        ]
        assert ops == [("update", ["merged_into"]), ("delete", [])]
        assert [r.row_id for r in trash.list_trash(s)] == []  # merged is not deleted
    with pytest.raises(errors.NotFoundError), db.write() as s:
        trash.restore(s, "contact", gone)


def test_undo_puts_everything_back(db: Database) -> None:
    keep = add_contact(db, "Anna Müller", emails=["anna@delta.example"])
    gone = add_contact(db, "Anna Muller", role="Buyer")
    rows = _everything_for(db, gone, keep)
    with db.read() as s:
        snapshot_before = _state(s, rows, keep, gone)
    with db.write() as s:
        done = merging.merge_contacts(s, keep, gone, {"role": "other"})
    with db.write() as s:
        merging.undo_merge(s, done)
    with db.read() as s:
        assert _state(s, rows, keep, gone) == snapshot_before
        ops = [e.op for e in s.scalars(select(OutboxEntry).where(OutboxEntry.row_id == gone))]
        # cleared pointer, then the restore (the server's unmerge rule needs that order)
        assert ops[-2:] == ["update", "restore"]
    with pytest.raises(errors.NotFoundError), db.write() as s:
        merging.undo_merge(s, done)  # twice: nothing left to undo


def _state(s: object, rows: dict[str, uuid.UUID], keep: uuid.UUID, gone: uuid.UUID) -> object:
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    out: list[object] = []
    for cid in (keep, gone):
        c = s.get(Contact, cid)
        assert c is not None
        out.append((c.name, c.role, c.emails, c.deleted_at is None, c.merged_into))
    for cls, key in (
        (Note, "note"),
        (Commitment, "commitment"),
        (Feedback, "feedback"),
        (Purchase, "purchase"),
    ):
        row = s.get(cls, rows[key])
        out.append(getattr(row, "contact_id", None))
    for key in ("visit", "visit_alone"):
        v = s.get(Visit, rows[key])
        assert v is not None
        out.append(sorted(v.contact_ids))
    return out


def test_every_contact_reference_is_found_from_the_metadata() -> None:
    """A table another change adds with a contact_id is moved by the merge with no list to edit."""
    found = {(t.name, c) for t, c, _set in merging.contact_references()}
    expected = {
        (table.name, col.name)
        for table in Base.metadata.sorted_tables
        for col in table.columns
        if col.name in ("contact_id", "contact_ids") and not col.info.get("derived")
    } | {("contacts", "referred_by_id")}  # a plain id (no foreign key), declared ``refers``
    assert found == expected and ("visits", "contact_ids") in found


def test_a_table_added_later_is_repointed(db: Database) -> None:
    extra = Table(
        "test_extra_refs",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("contact_id", Uuid, ForeignKey("contacts.id")),
    )
    try:
        with db.write() as s:
            extra.create(s.connection())
        keep, gone = add_contact(db, "A One"), add_contact(db, "A Uno")
        with db.write() as s:
            s.execute(insert(extra).values(id=1, contact_id=gone))
            merging.merge_contacts(s, keep, gone, {})
        with db.read() as s:
            assert s.execute(select(extra.c.contact_id)).scalar_one() == keep
            assert s.execute(text("SELECT count(*) FROM test_extra_refs")).scalar_one() == 1
    finally:
        Base.metadata.remove(extra)


def test_rows_added_by_other_changes_follow_the_merge(db: Database) -> None:
    """Thank-yous (a foreign key) and "referred by" (a plain id declared ``refers``), added to the
    schema after the merge was written, are re-pointed like the rest."""
    keep, gone = add_contact(db, "Eve Stone"), add_contact(db, "E. Stone")
    with db.write() as s:
        thanks = Appreciation(summary="Thank-you card", contact_id=gone)
        s.add(thanks)
        referred = s.get(Contact, add_contact(db, "Fay Lu"))
        assert referred is not None
        referred.referred_by_id = gone
        s.flush()
        thanks_id, referred_id = thanks.id, referred.id
    with db.write() as s:
        done = merging.merge_contacts(s, keep, gone, {})
    with db.read() as s:
        assert s.get(Appreciation, thanks_id).contact_id == keep  # type: ignore[union-attr]
        assert s.get(Contact, referred_id).referred_by_id == keep  # type: ignore[union-attr]
    with db.write() as s:
        merging.undo_merge(s, done)
    with db.read() as s:
        assert s.get(Appreciation, thanks_id).contact_id == gone  # type: ignore[union-attr]
        assert s.get(Contact, referred_id).referred_by_id == gone  # type: ignore[union-attr]


def test_resolve_follows_merges(db: Database) -> None:
    a, b, c = add_contact(db, "A"), add_contact(db, "B"), add_contact(db, "C")
    with db.write() as s:
        merging.merge_contacts(s, b, a, {})
        merging.merge_contacts(s, c, b, {})
    with db.read() as s:
        assert merging.resolve(s, a) == c and merging.resolve(s, c) == c
