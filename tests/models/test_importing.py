"""The import on a real database: preview, matching, one transaction, no duplicates, undo."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text

from models.db import Database, open_database
from models.entities import Account, Contact, OutboxEntry
from models.errors import NotFoundError
from models.services import contacts, export, importing
from models.services.card import NO_YEAR, CardData
from models.services.contacts import ContactInput
from models.services.import_file import prepare, read_source
from tests.support.contact_files import ANDROID_21, APPLE_30, GOOGLE_30, VCARD_40_BOM

ALL = ANDROID_21 + APPLE_30.replace("\n", "\r\n") + GOOGLE_30 + VCARD_40_BOM.lstrip("\ufeff")


def cards_of(tmp_path: Path, text: str, name: str = "contacts.vcf") -> list[CardData]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return prepare(read_source(path), None).cards


def live(db: Database) -> list[Contact]:
    with db.read() as s:
        return list(s.scalars(select(Contact).where(Contact.deleted_at.is_(None)).order_by(Contact.name)))


def outbox(db: Database) -> list[tuple[str, str]]:
    with db.read() as s:
        return [(o.entity, o.op) for o in s.scalars(select(OutboxEntry).order_by(OutboxEntry.seq))]


def run(db: Database, cards: list[CardData], region: str | None = "FR") -> importing.ImportResult:
    with db.write() as s:
        return importing.apply_import(s, cards, source="contacts.vcf", region=region)


def test_preview_writes_nothing_and_import_then_creates_what_it_said(tmp_path: Path, db: Database) -> None:
    cards = cards_of(tmp_path, ALL)
    with db.read() as s:
        plan = importing.plan_import(s, cards, region="FR")
    assert plan.cards == 5
    assert sorted(plan.new) == sorted(
        ["Dr. Jürgen Müller", "François Lefèvre", "Ελένη Σταυρόπουλος", "Ana García Márquez", "王小明"]
    )
    assert plan.new_accounts == ("Panadería Delta", "Όμιλος Αθηνών")
    assert live(db) == [] and outbox(db) == []  # the preview wrote nothing

    result = run(db, cards)
    assert (result.created, result.accounts) == (5, 2)
    people = {c.name: c for c in live(db)}
    assert people["François Lefèvre"].phones == ["+33 1 42 68 53 00"]  # national number, rep's region
    assert people["Dr. Jürgen Müller"].birthday == date(NO_YEAR, 4, 15)
    eleni = people["Ελένη Σταυρόπουλος"]
    assert eleni.personal_dates == [
        {"label": "Έναρξη συνεργασίας", "date": "2015-09-01"},
        {"label": "Anniversary", "date": "2010-06-12"},
    ]
    with db.read() as s:
        assert s.get(Account, eleni.account_id).name == "Όμιλος Αθηνών"  # type: ignore[union-attr]
    # Every row reaches the outbox as a create, like one typed by the rep.
    assert sorted(outbox(db)) == sorted([("account", "create")] * 2 + [("contact", "create")] * 5)


def test_created_rows_queue_the_same_patch_as_the_form(tmp_path: Path, db: Database) -> None:
    run(db, cards_of(tmp_path, GOOGLE_30))
    with db.write() as s:
        contacts.create_contact(s, ContactInput(name="Typed by hand"))
    with db.read() as s:
        imported, typed = [o for o in s.scalars(select(OutboxEntry)) if o.entity == "contact"]
    assert set(imported.patch) == set(typed.patch)
    assert imported.patch["kind"] == "customer" and imported.patch["cadence_days"] is None


def test_importing_the_same_file_twice_creates_no_duplicates(tmp_path: Path, db: Database) -> None:
    cards = cards_of(tmp_path, ALL)
    run(db, cards)
    before = {c.id: c.updated_at for c in live(db)}
    queued = len(outbox(db))
    again = cards_of(tmp_path, ALL)
    with db.read() as s:
        plan = importing.plan_import(s, again, region="FR")
    assert (plan.new, plan.merges, plan.new_accounts) == ((), (), ())
    assert len(plan.unchanged) == 5
    result = run(db, again)
    assert result.import_id is None  # nothing to undo
    assert {c.id: c.updated_at for c in live(db)} == before
    assert len(outbox(db)) == queued


def test_a_match_by_email_or_phone_only_fills_in(tmp_path: Path, db: Database) -> None:
    with db.write() as s:
        ana = contacts.create_contact(
            s,
            ContactInput(
                name="Ana G.", emails=["ANA.GARCIA@panaderia-delta.es"], role="Owner", tags=["bread"]
            ),
        )
        # The same number written another way: matched after normalization.
        wang = contacts.create_contact(s, ContactInput(name="Wang", phones=["+86 138 0013 8000"]))
    cards = cards_of(tmp_path, GOOGLE_30 + VCARD_40_BOM.lstrip("\ufeff"))
    with db.read() as s:
        plan = importing.plan_import(s, cards)
    assert plan.new == ()
    fills = {m.contact_name: m.fills for m in plan.merges}
    assert fills == {
        "Ana G.": ("Account", "Phones (+1)", "Tags (+1)"),
        "Wang": ("Address", "Birthday", "Emails (+1)", "Personal dates (+1)"),
    }
    run(db, cards)
    with db.read() as s:
        got = s.get(Contact, ana)
        assert got is not None
        assert got.name == "Ana G." and got.role == "Owner"  # never overwritten
        assert got.tags == ["bread", "Clientes"] and got.phones == ["+34 912 34 56 78"]
        w = s.get(Contact, wang)
        assert w is not None and w.birthday == date(NO_YEAR, 2, 29)


def test_two_cards_of_one_person_make_one_contact(tmp_path: Path, db: Database) -> None:
    second = GOOGLE_30.replace("N:García Márquez;Ana;;;", "FN:Ana García").replace(
        "+34 912 345 678", "+34 600 000 001"
    )
    with db.read() as s:
        plan = importing.plan_import(s, cards_of(tmp_path, GOOGLE_30 + second))
    assert plan.new == ("Ana García Márquez",)
    assert [(m.where, m.into_new) for m in plan.merges] == [("card 2 (line 10)", True)]
    run(db, cards_of(tmp_path, GOOGLE_30 + second))
    (ana,) = live(db)
    assert ana.phones == ["+34 912 34 56 78", "+34 600 00 00 01"]


def test_undo_takes_the_import_back_but_keeps_later_edits(tmp_path: Path, db: Database) -> None:
    with db.write() as s:
        ana = contacts.create_contact(
            s, ContactInput(name="Ana G.", emails=["ana.garcia@panaderia-delta.es"])
        )
    result = run(db, cards_of(tmp_path, GOOGLE_30 + APPLE_30.replace("\n", "\r\n")))
    assert (result.created, result.merged) == (1, 1)
    assert result.import_id is not None
    eleni = next(c for c in live(db) if c.name.startswith("Ελένη"))
    with db.write() as s:
        later = s.get(Contact, ana)
        assert later is not None
        later.phones = [*later.phones, "+34 600 000 002"]  # typed by the rep after the import
    queued = len(outbox(db))
    with db.write() as s:
        undone = importing.undo_import(s, result.import_id)
    assert undone.deleted == 1
    with db.read() as s:
        gone = s.get(Contact, eleni.id)
        assert gone is not None and gone.deleted_at is not None  # in the Trash, restorable
        account = s.get(Account, eleni.account_id)
        assert account is not None and account.deleted_at is not None
        back = s.get(Contact, ana)
        assert back is not None
        assert back.account_id is None and back.tags == []  # what the import filled in, emptied
        assert back.phones == ["+34 600 000 002"]  # the import's phone gone, the rep's kept
    # The undo syncs: a delete for each new row, an update for the filled-in contact.
    assert sorted(outbox(db)[queued:]) == [
        ("account", "delete"),
        ("contact", "delete"),
        ("contact", "update"),
    ]
    with db.write() as s, pytest.raises(NotFoundError):
        importing.undo_import(s, result.import_id)
    with db.read() as s:
        (history,) = importing.list_imports(s)
    assert history.undone and history.created == 1


def test_bad_values_are_left_out_and_named(tmp_path: Path, db: Database) -> None:
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Kim\r\nEMAIL:not-an-address\r\nTEL:12\r\nBDAY:2999-01-01\r\n"
        f"TITLE:{'x' * 250}\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lee\r\nEMAIL:lee@example.com\r\nBDAY:yesterday\r\nEND:VCARD\r\n"
    )
    with db.read() as s:
        plan = importing.plan_import(s, cards_of(tmp_path, card), region="GB")
    assert plan.new == ("Lee",)
    assert [(x.where, x.why.split(" ")[0]) for x in plan.skipped] == [("card 1 (line 1)", "Role")]
    assert plan.warnings == (
        "card 1 (line 1): email “not-an-address” left out: not an email address",
        "card 1 (line 1): phone left out: “12” does not look like a complete phone number",
        "card 1 (line 1): birthday 2999-01-01 left out: it is in the future",
        "card 2 (line 9): birthday “yesterday” left out: not a date",
    )


def test_undo_of_an_unknown_import(db: Database) -> None:
    with db.write() as s, pytest.raises(NotFoundError):
        importing.undo_import(s, uuid.uuid4())


def test_real_phone_cards_exported_read_back_the_same(tmp_path: Path, db: Database) -> None:
    """Cards from real phones, imported, then exported by File › Export (``export.contact_vcard``)
    and imported on another laptop: every field the import filled comes back the same."""
    run(db, cards_of(tmp_path, APPLE_30.replace("\n", "\r\n") + ANDROID_21))
    with db.read() as s:
        originals = export.contacts_for_export(s)
    text = export.vcard_text(originals)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))  # folded
    other = open_database(tmp_path / "other.sqlite")  # another laptop's database
    try:
        with other.write() as s:
            importing.apply_import(s, cards_of(tmp_path, text, "export.vcf"), source="export.vcf")
        with other.read() as s:
            copies = export.contacts_for_export(s)
    finally:
        other.close()
    skip = ("id", "created_at", "updated_at")
    assert [{k: v for k, v in vars(c).items() if k not in skip} for c in copies] == [
        {k: v for k, v in vars(c).items() if k not in skip} for c in originals
    ]


def test_imported_contacts_are_found_by_search_and_the_index_trigger_stays(
    tmp_path: Path, db: Database
) -> None:
    def triggers() -> set[str]:
        with db.read() as s:
            return set(s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))

    before = triggers()
    with pytest.raises(RuntimeError), db.write() as s:  # an import that fails half-way
        importing.apply_import(s, cards_of(tmp_path, GOOGLE_30), source="x.vcf")
        raise RuntimeError("disk gone")
    assert triggers() == before and live(db) == []
    run(db, cards_of(tmp_path, ALL))
    assert triggers() == before
    with db.read() as s:
        # Found by a word of the name, an email and a tag, through the full-text index.
        assert [r.name for r in contacts.list_contacts(s, "Lefèvre")] == ["François Lefèvre"]
        assert [r.name for r in contacts.list_contacts(s, "panaderia")] == ["Ana García Márquez"]
        assert [r.name for r in contacts.list_contacts(s, "Πελάτες")] == ["Ελένη Σταυρόπουλος"]
    with db.write() as s:  # the trigger is back: a contact typed afterwards is indexed too
        contacts.create_contact(s, ContactInput(name="Zygmunt Typed"))
    with db.read() as s:
        assert [r.name for r in contacts.list_contacts(s, "Zygmunt")] == ["Zygmunt Typed"]


def test_only_a_one_statement_index_trigger_is_deferred() -> None:
    from models.changes import _INDEX_TRIGGER

    head = "CREATE TRIGGER t AFTER INSERT ON contacts BEGIN INSERT INTO contacts_fts(rowid, name) "
    assert _INDEX_TRIGGER.match(head + "VALUES (new.rowid, new.name); END")
    # Two statements: left to run row by row rather than turned into broken SQL.
    assert not _INDEX_TRIGGER.match(
        head + "VALUES (new.rowid, new.name); INSERT INTO log(a) VALUES (new.id); END"
    )
