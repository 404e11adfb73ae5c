"""Domain services on a real SQLite file: validation, outbox, paging, search, trash, today."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from models import errors
from models.db import Database
from models.entities import OutboxEntry
from models.services import accounts, cadence, commitments, contacts, notes, trash
from models.services.contacts import ContactInput


def add_contact(db: Database, name: str, **kw: object) -> uuid.UUID:
    with db.write() as s:
        return contacts.create_contact(s, ContactInput(name=name, **kw))  # type: ignore[arg-type]


def outbox(db: Database) -> list[OutboxEntry]:
    with db.read() as s:
        return list(s.scalars(select(OutboxEntry).order_by(OutboxEntry.seq)))


def test_contact_is_cleaned_and_queued_for_sync(db: Database) -> None:
    cid = add_contact(
        db,
        "  Anna Schmidt ",
        emails=["anna@acme.de", " "],
        phones=["+49 30 1234567"],
        tags=["VIP", "vip", " golf "],
        cadence_days="14",
        birthday="1980-02-29",
    )
    with db.read() as s:
        detail = contacts.get_contact(s, cid)
    assert detail.name == "Anna Schmidt"
    assert detail.emails == ("anna@acme.de",)
    assert detail.phones == ("+49 30 1234567",)
    assert detail.tags == ("VIP", "golf")
    assert detail.cadence_days == 14
    assert detail.birthday == date(1980, 2, 29)
    (entry,) = outbox(db)
    assert (entry.entity, entry.row_id, entry.op) == ("contact", cid, "create")
    assert entry.patch["name"] == "Anna Schmidt" and entry.patch["birthday"] == "1980-02-29"


def test_invalid_contact_names_every_bad_field_and_saves_nothing(db: Database) -> None:
    with pytest.raises(errors.ValidationError) as info, db.write() as s:
        contacts.create_contact(
            s,
            ContactInput(
                name=" ", emails=["not-an-email"], phones=["12"], birthday="31/12/1980", cadence_days="often"
            ),
        )
    assert set(info.value.field_errors) == {"name", "emails", "phones", "birthday", "cadence_days"}
    assert "not an email address" in info.value.field_errors["emails"]
    with db.read() as s:
        assert contacts.count_contacts(s) == 0
    assert outbox(db) == []


def test_update_queues_only_changed_fields_with_their_old_values(db: Database) -> None:
    cid = add_contact(db, "Ben Okafor", role="Buyer")
    with db.write() as s:
        inp = contacts.contact_input(contacts.get_contact(s, cid))
        inp.role = "Head of purchasing"
        contacts.update_contact(s, cid, inp)
    update = outbox(db)[-1]
    assert update.op == "update"
    assert update.patch == {"role": "Head of purchasing"}
    assert update.before == {"role": "Buyer"}


def test_paging_visits_every_contact_once_in_name_order(db: Database) -> None:
    names = [f"Person {i:03d}" for i in range(250)] + ["émile", "Zoë", "anna", "Anna", "中村"]
    with db.write() as s:
        for n in names:
            contacts.create_contact(s, ContactInput(name=n))
    seen: list[str] = []
    after = None
    with db.read() as s:
        while page := contacts.list_contacts(s, after=after, limit=37):
            seen += [r.name for r in page]
            after = contacts.sort_key(page[-1])
    assert sorted(seen) == sorted(names)
    assert len(seen) == len(names)
    lowered = [n.lower() for n in seen if n.isascii()]
    assert lowered == sorted(lowered)


def test_filter_matches_name_prefixes_account_and_ignores_accents(db: Database) -> None:
    with db.write() as s:
        acme = accounts.create_account(s, accounts.AccountInput("Acme Logistics"))
        contacts.create_contact(s, ContactInput(name="Jürgen Müller", account_id=acme))
        contacts.create_contact(s, ContactInput(name="Sara Lind", tags=["golf"]))
        contacts.create_contact(s, ContactInput(name='Odd "quote* name'))
    with db.read() as s:

        def names(q: str) -> list[str]:
            return [r.name for r in contacts.list_contacts(s, q)]

        assert names("mull") == ["Jürgen Müller"]
        assert names("jur mul") == ["Jürgen Müller"]
        assert names("acme") == ["Jürgen Müller"]
        assert names("golf") == ["Sara Lind"]
        assert names('quote*"') == ['Odd "quote* name']
        assert names("nobody") == []
        # One letter matches the start of a word in the name (fast on 100,000 contacts).
        assert names("l") == ["Sara Lind"]
        assert names("M") == ["Jürgen Müller"]
        assert contacts.count_contacts(s, "s") == 1


def test_tags_and_emails_outside_ascii_are_found(db: Database) -> None:
    with db.write() as s:
        anna = ContactInput(name="Anna Berg", tags=["café"], emails=["jürgen@bäckerei.de"])
        contacts.create_contact(s, anna)
        contacts.create_contact(s, ContactInput(name="Li Wei", tags=["北京"]))
    with db.read() as s:
        assert [r.name for r in contacts.list_contacts(s, "café")] == ["Anna Berg"]
        assert [r.name for r in contacts.list_contacts(s, "cafe")] == ["Anna Berg"]  # accents ignored
        assert [r.name for r in contacts.list_contacts(s, "jürgen")] == ["Anna Berg"]
        assert [r.name for r in contacts.list_contacts(s, "北京")] == ["Li Wei"]


def test_delete_takes_notes_and_commitments_along_and_restore_brings_them_back(db: Database) -> None:
    cid = add_contact(db, "Dana")
    with db.write() as s:
        notes.add_note(s, notes.NoteInput("Called", contact_id=cid))
        commitments.add_commitment(s, commitments.CommitmentInput("Send quote", contact_id=cid))
    with db.write() as s:
        contacts.delete_contact(s, cid)
    with db.read() as s:
        assert contacts.count_contacts(s) == 0
        assert commitments.list_commitments(s) == []
        assert [r.title for r in trash.list_trash(s)] == ["Dana"]
    assert [e.op for e in outbox(db)[-3:]] == ["delete"] * 3
    with db.write() as s:
        trash.restore(s, "contact", cid)
    with db.read() as s:
        assert contacts.count_contacts(s) == 1
        assert [n.summary for n in notes.timeline(s, contact_id=cid)] == ["Called"]
        assert [c.what for c in commitments.list_commitments(s)] == ["Send quote"]
        assert trash.list_trash(s) == []
    with pytest.raises(errors.NotFoundError), db.write() as s:
        trash.restore(s, "contact", cid)


def test_timelines_are_newest_first_and_account_timeline_includes_its_contacts(db: Database) -> None:
    with db.write() as s:
        acc = accounts.create_account(s, accounts.AccountInput("Beta AG"))
        cid = contacts.create_contact(s, ContactInput(name="Eve", account_id=acc))
        now = datetime.now(UTC)
        notes.add_note(s, notes.NoteInput("old", contact_id=cid, occurred_at=now - timedelta(days=9)))
        notes.add_note(s, notes.NoteInput("new", contact_id=cid, occurred_at=now))
        notes.add_note(
            s, notes.NoteInput("account-level", account_id=acc, occurred_at=now - timedelta(days=1))
        )
    with db.read() as s:
        assert [n.summary for n in notes.timeline(s, contact_id=cid)] == ["new", "old"]
        assert [n.summary for n in notes.timeline(s, account_id=acc)] == ["new", "account-level", "old"]


def test_note_needs_a_summary_and_an_owner(db: Database) -> None:
    with pytest.raises(errors.ValidationError) as info, db.write() as s:
        notes.add_note(s, notes.NoteInput("  "))
    assert set(info.value.field_errors) == {"summary", "contact_id"}


def test_commitments_overdue_status_and_kept_rate(db: Database) -> None:
    cid = add_contact(db, "Finn")
    day = date(2026, 6, 15)
    with db.write() as s:
        late = commitments.add_commitment(
            s, commitments.CommitmentInput("late", contact_id=cid, due_date="2026-06-01")
        )
        on_time = commitments.add_commitment(
            s, commitments.CommitmentInput("ok", contact_id=cid, due_date="2026-06-10")
        )
        commitments.add_commitment(
            s, commitments.CommitmentInput("overdue", contact_id=cid, due_date="2026-06-14")
        )
        commitments.add_commitment(
            s, commitments.CommitmentInput("theirs", direction="they", contact_id=cid, due_date="2026-06-01")
        )
        commitments.add_commitment(
            s, commitments.CommitmentInput("later", contact_id=cid, due_date="2026-07-01")
        )
        commitments.set_status(s, late, "done", datetime(2026, 6, 5, 9, tzinfo=UTC))
        commitments.set_status(s, on_time, "done", datetime(2026, 6, 9, 9, tzinfo=UTC))
    with db.read() as s:
        open_rows = commitments.list_commitments(s)
        assert [c.what for c in open_rows] == ["theirs", "overdue", "later"]
        assert [c.is_overdue(day) for c in open_rows] == [True, True, False]
        rate = commitments.kept_rate(s, day)
    assert (rate.kept_on_time, rate.done_late, rate.open_overdue) == (1, 1, 1)
    assert rate.rate == pytest.approx(1 / 3)


def test_overdue_checkins_respect_each_contacts_cadence(db: Database) -> None:
    now = datetime.now(UTC)
    fresh = add_contact(db, "Fresh", cadence_days=30)
    stale = add_contact(db, "Stale", cadence_days=7)
    add_contact(db, "Never contacted", cadence_days=30)
    add_contact(db, "No cadence")
    with db.write() as s:
        notes.add_note(s, notes.NoteInput("hi", contact_id=fresh, occurred_at=now - timedelta(days=3)))
        notes.add_note(s, notes.NoteInput("hi", contact_id=stale, occurred_at=now - timedelta(days=20)))
    with db.read() as s:
        due = cadence.checkins_due(s, now.date())
    # The most overdue first; never contacted (due from the start, how late unknown) after.
    assert [r.name for r in due] == ["Stale", "Never contacted"]
    assert due[0].days_late(now.date()) == 13


def test_stale_ids_give_a_clear_not_found(db: Database) -> None:
    with pytest.raises(errors.NotFoundError, match="no longer exists"), db.read() as s:
        contacts.get_contact(s, uuid.uuid4())


def test_last_contact_follows_every_note_change_and_never_syncs(db: Database) -> None:
    ana, ben = add_contact(db, "Ana"), add_contact(db, "Ben")
    t1 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    t2 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)

    def last(cid: uuid.UUID) -> datetime | None:
        with db.read() as s:
            return contacts.get_contact(s, cid).last_contact_at

    with db.write() as s:
        old = notes.add_note(s, notes.NoteInput("Old", contact_id=ana, occurred_at=t1))
        new = notes.add_note(s, notes.NoteInput("New", contact_id=ana, occurred_at=t2))
    assert last(ana) == t2
    with db.write() as s:
        notes.delete_note(s, new)
    assert last(ana) == t1  # a deleted note no longer counts
    with db.write() as s:
        trash.restore(s, "note", new)
    assert last(ana) == t2
    with db.write() as s:  # moved to another contact: both are recomputed
        notes.update_note(s, new, notes.NoteInput("New", contact_id=ben, occurred_at=t2))
    assert (last(ana), last(ben)) == (t1, t2)
    with db.write() as s:
        notes.delete_note(s, old)
    assert last(ana) is None
    with db.read() as s:  # the list shows the same value
        assert {r.name: r.last_contact_at for r in contacts.list_contacts(s)} == {"Ana": None, "Ben": t2}
    # Derived locally: never part of what is queued for the server.
    assert all("last_contact_at" not in e.patch for e in outbox(db))


def test_a_contact_arriving_after_its_notes_starts_from_them(db: Database) -> None:
    """Sync applies pages with foreign keys off, in server order: notes can come first."""
    from sqlalchemy import text

    cid = uuid.uuid4()
    when = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with db.write() as s:
        s.execute(text("PRAGMA defer_foreign_keys = ON"))  # checked at commit, as a whole page is
        notes_table = notes.Note.__table__
        s.execute(
            notes_table.insert().values(
                id=uuid.uuid4(),
                occurred_at=when,
                channel="call",
                summary="Early",
                body="",
                contact_id=cid,
                created_at=when,
                updated_at=when,
            )
        )
        s.execute(
            contacts.Contact.__table__.insert().values(
                id=cid,
                name="Late",
                kind="customer",
                emails=[],
                phones=[],
                personal_dates=[],
                tags=[],
                address="",
                preferences="",
                needs="",
                about="",
                role="",
                created_at=when,
                updated_at=when,
            )
        )
    with db.read() as s:
        assert contacts.get_contact(s, cid).last_contact_at == when
