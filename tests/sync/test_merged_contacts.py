"""Merged contacts across laptops: late edits reach the survivor, and nothing revives the merged
one but an undo of the merge (a real server on loopback, SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from models.entities import Note, Visit
from models.services import merging
from tests.support.sync_support import Laptop, contact


def _merge(lap: Laptop, keep: object, gone: object, **picks: str) -> merging.Merged:
    with lap.db.write() as s:
        return merging.merge_contacts(s, keep, gone, picks)  # type: ignore[arg-type]


def test_late_edits_of_a_merged_contact_reach_the_survivor(laptops: Callable[..., Laptop]) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    keep = ann.add(contact("Anna Müller", role="Owner", tags=["vip"]))
    gone = ann.add(contact("Anna Muller", role="Buyer"))
    when = datetime(2026, 3, 1, 9, tzinfo=UTC)
    visit = ann.add(Visit(starts_at=when, contact_ids=[str(keep)]))
    ann.sync()
    bob.sync()  # Bob holds both, then goes offline and never hears of the merge
    _merge(ann, keep, gone, role="survivor")
    ann.sync()
    # Bob, offline: edits the merged-away contact, adds a note to it, puts it on the visit.
    bob.edit("contact", gone, about="Prefers mornings", tags=["golf"])
    note = bob.add(Note(summary="Called Anna", contact_id=gone))
    bob.edit("visit", visit, contact_ids=[str(keep), str(gone)])
    summary = bob.sync()
    assert summary.rejected == 0
    # On Bob's laptop (after his own push and pull) and on Ann's, the same thing: the edits and
    # the note are on the survivor, and the merged contact stays merged.
    ann.sync()
    for lap in (ann, bob):
        survivor, merged = lap.get("contact", keep), lap.get("contact", gone)
        assert survivor.about == "Prefers mornings", lap.username
        assert survivor.role == "Owner"  # an edit of other fields does not touch it
        assert set(survivor.tags) == {"vip", "golf"}
        assert merged.deleted_at is not None and merged.merged_into == keep
        assert lap.get("note", note).contact_id == keep
        assert lap.get("visit", visit).contact_ids == [str(keep)]
    assert ann.snapshot() == bob.snapshot()
    # A new laptop gets the same.
    cat = laptops("cat")
    cat.sync()
    assert cat.snapshot() == ann.snapshot()


def test_a_late_restore_or_edit_never_revives_the_merged_contact(laptops: Callable[..., Laptop]) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    keep = ann.add(contact("Bo Stone"))
    gone = ann.add(contact("Bo Stone", role="Buyer"))
    ann.sync()
    bob.sync()
    # Bob deletes the duplicate and then changes his mind, offline.
    bob.edit("contact", gone, deleted_at=datetime.now(UTC))
    bob.edit("contact", gone, deleted_at=None, role="Head buyer")
    _merge(ann, keep, gone)
    ann.sync()
    bob.sync()
    ann.sync()
    for lap in (ann, bob):
        merged = lap.get("contact", gone)
        assert merged.deleted_at is not None and merged.merged_into == keep, lap.username
        assert lap.get("contact", keep).role == "Head buyer"  # the edit went to the survivor
    assert ann.snapshot() == bob.snapshot()


def test_undo_of_a_merge_syncs(laptops: Callable[..., Laptop]) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    keep = ann.add(contact("Cy Young", role="CEO"))
    gone = ann.add(contact("C. Young", role="Founder"))
    note = ann.add(Note(summary="Met", contact_id=gone))
    ann.sync()
    bob.sync()
    done = _merge(ann, keep, gone, role="other")
    ann.sync()
    bob.sync()
    assert bob.get("contact", gone).deleted_at is not None
    assert bob.get("contact", keep).role == "Founder"
    with ann.db.write() as s:
        merging.undo_merge(s, done)
    assert ann.sync().rejected == 0
    bob.sync()
    for lap in (ann, bob):
        back = lap.get("contact", gone)
        assert back.deleted_at is None and back.merged_into is None, lap.username
        assert lap.get("note", note).contact_id == gone
        assert lap.get("contact", keep).role == "CEO"
    assert ann.snapshot() == bob.snapshot()
    # Back to an ordinary contact: an edit of it stays on it.
    bob.edit("contact", gone, about="Back")
    bob.sync()
    ann.sync()
    assert ann.get("contact", gone).about == "Back" and ann.get("contact", keep).about == ""


def test_the_same_pair_merged_both_ways_keeps_one_contact(laptops: Callable[..., Laptop]) -> None:
    """Two reps merge the same two contacts at once, each keeping the other one: the first merge
    to arrive stands, the second is not applied (both would otherwise be tombstones)."""
    ann, bob = laptops("ann"), laptops("bob")
    x = ann.add(contact("Dee Park", role="CFO"))
    y = ann.add(contact("D. Park", about="Met at the fair"))
    note = ann.add(Note(summary="Lunch", contact_id=x))
    ann.sync()
    bob.sync()
    _merge(ann, y, x, role="other")  # Ann keeps y
    _merge(bob, x, y, about="other")  # Bob keeps x
    ann.sync()
    bob.sync()
    ann.sync()
    for lap in (ann, bob):
        kept, gone = lap.get("contact", y), lap.get("contact", x)
        assert kept.deleted_at is None and kept.merged_into is None, lap.username
        assert gone.deleted_at is not None and gone.merged_into == y
        assert (kept.role, kept.about) == ("CFO", "Met at the fair")
        assert lap.get("note", note).contact_id == y
    assert ann.snapshot() == bob.snapshot()
