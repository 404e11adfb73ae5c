"""Export then import gives the same contacts (issue 13): File › Export's vCard and CSV read back
by File › Import into another laptop's database field by field, and into the same database as
nothing new and nothing changed."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from models.db import Database, open_database
from models.entities import Account, Contact, OutboxEntry
from models.services import importing
from models.services.accounts import AccountInput, create_account
from models.services.card import NO_YEAR
from models.services.contacts import ContactInput, create_contact
from models.services.export import ExportedContact, contacts_for_export, write_contacts
from models.services.import_file import Prepared, prepare, read_source

# What the export carries of a contact, compared field by field (the id and the times are the
# receiving database's own).
FIELDS = tuple(
    f.name for f in dataclasses.fields(ExportedContact) if f.name not in ("id", "created_at", "updated_at")
)
FORMATS = pytest.mark.parametrize("suffix", [".vcf", ".csv"])


def fill(db: Database) -> None:
    """Contacts with every exported field filled, typed through the contact form's service."""
    with db.write() as s:
        muehle = create_account(s, AccountInput(name="Bäckerei „Zur Mühle“, Brot & Co; GmbH"))
        lyon = create_account(s, AccountInput(name="Soierie Lyonnaise"))
        create_contact(
            s,
            ContactInput(
                name="Zoë d'Almeida-Łukasz",
                kind="partner",
                account_id=muehle,
                role="Head, Buying; EMEA",
                emails=["zoe@muehle.example", "z.almeida@home.example"],
                phones=["+49 30 1234567", "+33 1 42 68 53 00"],
                address="12 Rue X, Bât. B\n75001 Paris, France",
                birthday=date(1980, 4, 15),
                personal_dates=[("Name day, Polish", "2020-07-26"), ("Start; first order", "2015-09-01")],
                tags=["vip", "bio, organic", "Ελληνικά"],
                preferences="Espresso, no sugar\nMornings before 10",
                needs="Faster delivery; less paper",
                about='Met at the fair.\nLikes "quotes", commas; and a \\ backslash',
                cadence_days=21,
            ),
        )
        create_contact(
            s,
            ContactInput(
                name="Dr. Jürgen Weiß",
                kind="supplier",
                account_id=lyon,
                phones=["+49 170 1234567"],
                # A double quote, a caret and a backslash in the address the label carries.
                address='Chez "Paul" ^ Hof\\2\nRue de la République 3, 69002 Lyon\nFrance',
                birthday=date(NO_YEAR, 2, 29),  # a birthday without a year
                personal_dates=[("Anniversary", date(NO_YEAR, 6, 12))],
                cadence_days=3650,
            ),
        )
        # Neither email nor phone: matched by name at the same account.
        create_contact(s, ContactInput(name="王小明", kind="colleague", account_id=lyon, tags=["中文"]))
        create_contact(s, ContactInput(name="Bare Name"))


def exported(db: Database, tmp_path: Path, suffix: str) -> tuple[Path, list[ExportedContact]]:
    """:func:`fill`'s contacts exported as File › Export writes them."""
    fill(db)
    path = tmp_path / f"contacts{suffix}"
    with db.read() as s:
        rows = contacts_for_export(s)
    write_contacts(rows, path)
    return path, rows


def prepared(db: Database, path: Path) -> Prepared:
    with db.read() as s:
        return prepare(read_source(path), s)


def same(rows: list[ExportedContact]) -> list[dict[str, object]]:
    return [{f: getattr(r, f) for f in FIELDS} for r in rows]


def accounts(db: Database) -> list[str]:
    with db.read() as s:
        return sorted(s.scalars(select(Account.name).where(Account.deleted_at.is_(None))))


@FORMATS
def test_export_then_import_into_another_laptop_gives_the_same_contacts(
    db: Database, tmp_path: Path, suffix: str
) -> None:
    path, originals = exported(db, tmp_path, suffix)
    zoe = next(c for c in originals if c.name.startswith("Zoë"))
    assert all(getattr(zoe, f) for f in FIELDS)  # a field the export gains is filled here too
    other = open_database(tmp_path / "other.sqlite")
    try:
        got = prepared(other, path)
        assert not got.needs_mapping and got.skipped == []
        assert got.format == ("vCard" if suffix == ".vcf" else "Rapport")
        with other.read() as s:
            plan = importing.plan_import(s, got.cards, got.skipped)
        assert plan.warnings == () and plan.skipped == ()
        assert sorted(plan.new) == sorted(c.name for c in originals)
        with other.write() as s:
            result = importing.apply_import(s, got.cards, got.skipped, source=path.name)
        assert (result.created, result.merged, result.accounts) == (4, 0, 2)
        with other.read() as s:
            copies = contacts_for_export(s)
        assert same(copies) == same(originals)
        assert accounts(other) == accounts(db)
    finally:
        other.close()


@FORMATS
def test_importing_the_export_into_the_same_database_changes_nothing(
    db: Database, tmp_path: Path, suffix: str
) -> None:
    path, _ = exported(db, tmp_path, suffix)

    def state() -> tuple[list[tuple[object, ...]], int]:
        with db.read() as s:
            rows = s.execute(select(Contact.id, Contact.updated_at).order_by(Contact.id)).all()
            return [tuple(r) for r in rows], len(s.scalars(select(OutboxEntry.seq)).all())

    before = state()
    got = prepared(db, path)
    with db.read() as s:
        plan = importing.plan_import(s, got.cards, got.skipped)
    assert (plan.new, plan.merges, plan.new_accounts, plan.skipped, plan.warnings) == ((), (), (), (), ())
    assert len(plan.unchanged) == 4
    with db.write() as s:
        result = importing.apply_import(s, got.cards, got.skipped, source=path.name)
    assert result.import_id is None  # nothing written, nothing to undo
    assert state() == before


VCARD_BAD_VALUES = (
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Kim Boss\r\nEMAIL:kim@example.com\r\nX-RAPPORT-KIND:boss\r\n"
    "X-RAPPORT-CADENCE-DAYS:9999\r\nX-RAPPORT-PREFERENCES:Tea\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Lee\r\nEMAIL:lee@example.com\r\nX-RAPPORT-KIND:Supplier\r\n"
    "X-RAPPORT-CADENCE-DAYS:often\r\nX-RAPPORT-NEEDS:Quick answers\r\nEND:VCARD\r\n"
)
CSV_BAD_VALUES = (
    "id,name,kind,account,role,emails,phones,address,birthday,personal_dates,tags,preferences,needs,"
    "about,cadence_days,created_at,updated_at\r\n"
    ",Kim Boss,boss,,,kim@example.com,,,,,,Tea,,,9999,,\r\n"
    ",Lee,Supplier,,,lee@example.com,,,,Xmas: tomorrow; : 2020-01-01,,,Quick answers,,often,,\r\n"
)


@pytest.mark.parametrize(("name", "text"), [("in.vcf", VCARD_BAD_VALUES), ("in.csv", CSV_BAD_VALUES)])
def test_an_unknown_kind_or_a_cadence_out_of_bounds_is_left_out_with_a_warning(
    db: Database, tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    got = prepared(db, path)
    with db.read() as s:
        plan = importing.plan_import(s, got.cards)
    assert sorted(plan.new) == ["Kim Boss", "Lee"]  # the cards are kept, the values left out
    first, second = ("card 1 (line 1)", "card 2 (line 9)") if name.endswith(".vcf") else ("line 2", "line 3")
    expected = [
        f"{first}: kind “boss” left out: not one of customer, partner, supplier, colleague, other",
        f"{first}: check-in cadence “9999” left out: a number of days between 1 and 3650",
        f"{second}: check-in cadence “often” left out: a number of days between 1 and 3650",
    ]
    if name.endswith(".csv"):
        expected += [
            f"{second}: personal date “Xmas: tomorrow” left out: not a date",
            f"{second}: personal date “: 2020-01-01” left out: it has no label",
        ]
    assert sorted(plan.warnings) == sorted(expected)
    with db.write() as s:
        importing.apply_import(s, got.cards, source=name)
    with db.read() as s:
        people = {c.name: c for c in s.scalars(select(Contact))}
    kim, lee = people["Kim Boss"], people["Lee"]
    assert (kim.kind, kim.cadence_days, kim.preferences) == ("customer", None, "Tea")
    assert (lee.kind, lee.cadence_days, lee.needs) == ("supplier", None, "Quick answers")


@FORMATS
def test_a_matched_contact_is_only_filled_in_and_its_kind_never_changes(
    db: Database, tmp_path: Path, suffix: str
) -> None:
    path, _ = exported(db, tmp_path, suffix)
    with db.write() as s:
        zoe = s.scalars(select(Contact).where(Contact.name.startswith("Zoë"))).one()
        zoe.kind, zoe.preferences, zoe.needs, zoe.cadence_days = "customer", "", "Typed later", None
        weiss = s.scalars(select(Contact).where(Contact.name.startswith("Dr."))).one()
        weiss.cadence_days, weiss.cadence_max_days = None, 30  # the file's 3650 days: longer, not filled
    got = prepared(db, path)
    with db.read() as s:
        plan = importing.plan_import(s, got.cards)
    assert [(m.contact_name, m.fills) for m in plan.merges] == [
        ("Zoë d'Almeida-Łukasz", ("Preferences", "Check in every"))
    ]
    where = next(c.where for c in got.cards if c.name.startswith("Dr."))
    assert plan.warnings == (
        f"{where}: check-in cadence 3650 left out: longer than “Losing touch after” (30 days)",
    )
    with db.write() as s:
        importing.apply_import(s, got.cards, source=path.name)
    with db.read() as s:
        zoe = s.scalars(select(Contact).where(Contact.name.startswith("Zoë"))).one()
        weiss = s.scalars(select(Contact).where(Contact.name.startswith("Dr."))).one()
    assert zoe.kind == "customer"  # never overwritten
    assert zoe.needs == "Typed later"
    assert zoe.preferences == "Espresso, no sugar\nMornings before 10" and zoe.cadence_days == 21
    assert weiss.cadence_days is None
