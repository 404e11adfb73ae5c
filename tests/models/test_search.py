"""One search over everything (models/services/search.py, migration 0010), on real SQLite files."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from models.bulk import bulk_load
from models.db import Database
from models.entities import Contact
from models.services import accounts, commitments, contacts, notes, trash, visits
from models.services.accounts import AccountInput
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput
from models.services.notes import NoteInput
from models.services.search import MARK_END, MARK_START, SearchResults, phone_digits, search, unmarked
from models.services.visits import VisitInput
from sync.apply import PageCounts, apply_rows
from sync.protocol import RowChange


def find(db: Database, text: str, **kw: object) -> SearchResults:
    with db.read() as s:
        return search(s, text, **kw)  # type: ignore[arg-type]


def ids(db: Database, text: str, kind: str, **kw: object) -> set[uuid.UUID]:
    return {hit.id for hit in find(db, text, **kw).groups.get(kind, [])}


@pytest.fixture
def anna(db: Database) -> uuid.UUID:
    with db.write() as s:
        delta = accounts.create_account(
            s, AccountInput(name="Delta Bäckerei", address="Hauptstraße 5, München")
        )
        return contacts.create_contact(
            s,
            ContactInput(
                name="Anna Müller",
                account_id=delta,
                role="Head buyer",
                emails=["anna.mueller@delta.de"],
                phones=["+44 20 7946 0958"],
            ),
        )


def test_prefix_matching_as_typed(db: Database, anna: uuid.UUID) -> None:
    for typed in ("A", "An", "Ann", "Anna", "Anna M", "anna mü"):
        assert anna in ids(db, typed, "contact"), typed
    assert ids(db, "Annab", "contact") == set()


def test_accents_fold_both_ways(db: Database, anna: uuid.UUID) -> None:
    with db.write() as s:
        muller = contacts.create_contact(s, ContactInput(name="Jonas Muller"))
    assert ids(db, "Muller", "contact") == {anna, muller}
    assert ids(db, "Müller", "contact") == {anna, muller}
    assert ids(db, "MÜLL", "contact") == {anna, muller}
    # An account and its address too ("Bäckerei", "München").
    assert len(ids(db, "backerei munchen", "account")) == 1


@pytest.mark.parametrize(
    "typed",
    ["+44 20 7946 0958", "02079460958", "020 7946 0958", "7946 0958", "079460958", "0044 20 7946-0958"],
)
def test_phone_numbers_whatever_their_formatting(db: Database, anna: uuid.UUID, typed: str) -> None:
    hits = find(db, typed).groups["contact"]
    assert [h.id for h in hits] == [anna]
    assert "+44 20 7946 0958" in unmarked(hits[0].detail)


def test_phone_digits_of_a_query() -> None:
    assert phone_digits("020 7946 0958") == "2079460958"
    assert phone_digits("+44 (20) 7946-0958") == "442079460958"
    assert phone_digits("0044 20") == "4420"
    assert phone_digits("12") is None
    assert phone_digits("Anna") is None


def test_a_changed_phone_number_is_found_by_its_new_digits_only(db: Database, anna: uuid.UUID) -> None:
    with db.write() as s:
        detail = contacts.get_contact(s, anna)
        inp = contacts.contact_input(detail)
        inp.phones = ["+49 30 1234567"]
        contacts.update_contact(s, anna, inp)
    assert ids(db, "030 1234567", "contact") == {anna}
    assert ids(db, "7946 0958", "contact") == set()


@pytest.mark.parametrize("typed", ["anna", "delta", "anna.mueller@delta.de", "mueller@delta", "anna.mue"])
def test_emails_by_any_part(db: Database, anna: uuid.UUID, typed: str) -> None:
    assert anna in ids(db, typed, "contact")


def test_an_address_must_match_as_written(db: Database, anna: uuid.UUID) -> None:
    # The words of an address joined by dots and @ are a phrase: "delta.anna" is not her.
    assert ids(db, "delta.anna", "contact") == set()


def test_every_kind_is_found_grouped_and_highlighted(db: Database, anna: uuid.UUID) -> None:
    with db.write() as s:
        note = notes.add_note(
            s,
            NoteInput(
                summary="Stand-up call",
                body="Long talk. She said the zucchini supplier from Verona is late again.",
                contact_id=anna,
            ),
        )
        owed = commitments.add_commitment(
            s, CommitmentInput(what="Send zucchini price list", contact_id=anna)
        )
        visit = visits.create_visit(
            s,
            VisitInput(
                starts_at=datetime.now(UTC) + timedelta(days=2),
                contact_ids=[anna],
                purpose="Zucchini tasting",
                agenda="bring samples",
                location="Verona market",
            ),
        )
    results = find(db, "zucchini")
    assert list(results.groups) == ["note", "commitment", "visit"]
    assert [h.id for h in results.groups["note"]] == [note]
    assert [h.id for h in results.groups["commitment"]] == [owed]
    assert [h.id for h in results.groups["visit"]] == [visit]
    hit = results.groups["note"][0]
    assert f"{MARK_START}zucchini{MARK_END}" in hit.detail  # a snippet of the body, marked
    assert hit.contact_id == anna and "Anna Müller" in hit.title
    assert ids(db, "veron", "visit") == {visit}  # the location
    assert ids(db, "samples", "visit") == {visit}  # the agenda
    results = find(db, "anna")
    assert f"{MARK_START}Anna{MARK_END} Müller" == results.groups["contact"][0].title


def test_a_long_word_being_typed_finds_every_word_it_starts(db: Database, anna: uuid.UUID) -> None:
    # Four letters or more are expanded from the index's words: each must still be found.
    with db.write() as s:
        first = notes.add_note(s, NoteInput(summary="Competitor visit", contact_id=anna))
        second = notes.add_note(s, NoteInput(summary="Complaint about the crates", contact_id=anna))
        third = notes.add_note(s, NoteInput(summary="Compères at the fair", contact_id=anna))
    assert ids(db, "comp", "note") == {first, second, third}
    assert ids(db, "compe", "note") == {first, third}
    assert ids(db, "compere", "note") == {third}
    assert ids(db, "complaint crat", "note") == {second}


def test_names_that_start_with_the_words_come_first(db: Database) -> None:
    with db.write() as s:
        contacts.create_contact(s, ContactInput(name="Zoe Berg", role="Anna's assistant"))
        contacts.create_contact(s, ContactInput(name="Marie Annaberg"))
        contacts.create_contact(s, ContactInput(name="Anna Zed"))
    titles = [unmarked(h.title) for h in find(db, "anna").groups["contact"]]
    assert titles == ["Anna Zed", "Marie Annaberg", "Zoe Berg"]


def test_trash_is_left_out_unless_asked(db: Database, anna: uuid.UUID) -> None:
    with db.write() as s:
        note = notes.add_note(s, NoteInput(summary="Pistachio order", contact_id=anna))
        contacts.delete_contact(s, anna)  # her notes go to the trash with her
    assert find(db, "anna") == SearchResults("anna")
    assert find(db, "pistachio").groups == {}
    assert find(db, "7946 0958").groups == {}
    everything = find(db, "pistachio", include_trash=True)
    assert [(h.id, h.in_trash) for h in everything.groups["note"]] == [(note, True)]
    assert [h.in_trash for h in find(db, "anna", include_trash=True).groups["contact"]] == [True]
    with db.write() as s:
        trash.restore(s, "contact", anna)
    assert ids(db, "anna", "contact") == {anna}
    assert ids(db, "pistachio", "note") == {note}


def test_the_index_follows_edits_and_deletes(db: Database, anna: uuid.UUID) -> None:
    with db.write() as s:
        visit = visits.create_visit(
            s, VisitInput(starts_at=datetime.now(UTC), contact_ids=[anna], purpose="Plan the harvest")
        )
    with db.write() as s:
        visits.update_visit(
            s, visit, VisitInput(starts_at=datetime.now(UTC), contact_ids=[anna], purpose="Plan the winter")
        )
    assert ids(db, "harvest", "visit") == set()
    assert ids(db, "winter", "visit") == {visit}
    with db.write() as s:
        s.execute(Contact.__table__.delete().where(Contact.id == anna))  # a row purged for good
    assert ids(db, "anna", "contact") == set()
    assert ids(db, "7946", "contact") == set()


def test_pulled_rows_are_indexed_like_local_ones(db: Database) -> None:
    """A contact and a visit arriving by sync (sync.apply.apply_rows, as a pull applies them)."""
    contact_id, visit_id = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC).isoformat()

    def pull(entity: str, row_id: uuid.UUID, version: int, data: dict[str, object]) -> None:
        with db.write() as s:
            table = Contact.__table__ if entity == "contact" else visits.Visit.__table__
            change = RowChange(
                entity=entity, id=row_id, version=version, deleted=False, data=data, updated_at=now
            )
            apply_rows(s, table, entity, [change], [], {}, PageCounts())

    pull(
        "contact",
        contact_id,
        1,
        {"name": "Émile Lærum", "phones": ["+47 22 33 44 55"], "emails": ["oy@fjord.no"]},
    )
    pull("visit", visit_id, 2, {"starts_at": now, "purpose": "Fjord cruise pitch", "location": "Bergen"})
    assert ids(db, "emile", "contact") == {contact_id}
    assert ids(db, "22334455", "contact") == {contact_id}  # digits only: the phone index
    assert ids(db, "fjord", "contact") == {contact_id}
    assert ids(db, "bergen", "visit") == {visit_id}
    pull("contact", contact_id, 3, {"name": "Émile Lærum", "phones": ["+47 99 88 77 66"]})
    assert ids(db, "22334455", "contact") == set()
    assert ids(db, "99887766", "contact") == {contact_id}


def test_nothing_typed_finds_nothing(db: Database, anna: uuid.UUID) -> None:
    for typed in ("", "   ", "--", '"*:'):
        assert find(db, typed).groups == {}


def test_a_bulk_load_rebuilds_every_search_index(db: Database) -> None:
    """Sample data and a snapshot load with the triggers off, then rebuild (models.bulk): the
    phone digits (a view's content) and the visits are rebuilt with the rest."""
    with db.write() as s, bulk_load(s.connection()):
        who = contacts.create_contact(s, ContactInput(name="Bulk Person", phones=["+33 1 42 68 53 00"]))
        visit = visits.create_visit(
            s, VisitInput(starts_at=datetime.now(UTC), contact_ids=[who], purpose="Louvre")
        )
    assert ids(db, "01 42 68 53", "contact") == {who}
    assert ids(db, "louvre", "visit") == {visit}


def test_the_contacts_filter_finds_a_phrase_from_a_note_and_a_phone_however_typed(
    db: Database, anna: uuid.UUID
) -> None:
    with db.write() as s:
        other = contacts.create_contact(s, ContactInput(name="Berta Zed"))
        notes.add_note(
            s, NoteInput(summary="Visit", body="Her cat is called Marmalade Jones.", contact_id=anna)
        )
        gone = notes.add_note(s, NoteInput(summary="Old", body="Loves the opera season", contact_id=other))
        notes.delete_note(s, gone)

    def listed(text: str) -> set[uuid.UUID]:
        with db.read() as s:
            found = {r.id for r in contacts.list_contacts(s, text)}
            assert contacts.count_contacts(s, text) == len(found)
            return found

    assert listed("cat is called") == {anna}
    assert listed("marmalade jon") == {anna}  # the last word still being typed
    assert listed("opera season") == set()  # a deleted note finds no one
    assert listed("020 7946 0958") == {anna}
    assert listed("079460958") == {anna}
