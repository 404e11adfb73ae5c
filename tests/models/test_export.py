"""Export (models/services/export.py): contacts to vCard 4.0 and CSV (all, a selection, a filter's
results) and one account's whole history to a folder or a zip, read back with real parsers."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from datetime import date, datetime
from pathlib import Path

import vobject

from models.db import Database
from models.entities import Commitment, Purchase
from models.services.accounts import AccountInput, create_account
from models.services.contacts import ContactInput, create_contact, delete_contact
from models.services.export import CONTACT_COLUMNS, contacts_for_export, export_account, write_contacts
from models.services.notes import NoteInput, add_note


def _people(db: Database) -> dict[str, uuid.UUID]:
    with db.write() as s:
        delta = create_account(
            s, AccountInput(name="Delta Bäckerei GmbH", address="Hauptstraße 1\n10115 Berlin")
        )
        other = create_account(s, AccountInput(name="Other Ltd"))
        anna = create_contact(
            s,
            ContactInput(
                name="Anna Müller",
                account_id=delta,
                role="Einkäuferin",
                emails=["anna@delta.example", "a.mueller@home.example"],
                phones=["+49 30 1234567"],
                address="Hauptstraße 1, Berlin",
                birthday=date(1980, 4, 15),
                personal_dates=[("Name day", date(2026, 7, 26))],
                tags=["vip", "bio"],
                about='Likes "quotes", commas, and\nnew lines',
            ),
        )
        bob = create_contact(s, ContactInput(name="Bob", account_id=delta))
        zoe = create_contact(s, ContactInput(name="Zoë Other", account_id=other))
        gone = create_contact(s, ContactInput(name="Deleted Person", account_id=delta))
        delete_contact(s, gone)
        add_note(s, NoteInput(summary="Call about rye", contact_id=anna, body="Wants 20 kg"))
        add_note(s, NoteInput(summary="Filed under the account", account_id=delta))
        add_note(s, NoteInput(summary="Another account's note", contact_id=zoe))
        s.add(Commitment(what="Send samples", contact_id=anna, account_id=delta, due_date=date(2026, 12, 10)))
        s.add(
            Purchase(product="Rye flour", purchased_on=date(2026, 11, 2), amount_cents=12345, contact_id=anna)
        )
    return {"delta": delta, "other": other, "anna": anna, "bob": bob, "zoe": zoe, "gone": gone}


def test_contacts_to_vcard_4(db: Database, tmp_path: Path) -> None:
    ids = _people(db)
    with db.read() as s:
        rows = contacts_for_export(s)
    assert [r.name for r in rows] == ["Anna Müller", "Bob", "Zoë Other"]  # no deleted ones
    path = tmp_path / "contacts.vcf"
    assert write_contacts(rows, path) == 3
    cards = list(vobject.readComponents(path.read_text(encoding="utf-8")))
    assert len(cards) == 3
    anna = cards[0]
    assert anna.version.value == "4.0"
    assert anna.uid.value == f"urn:uuid:{ids['anna']}"
    assert anna.fn.value == "Anna Müller"
    assert (anna.n.value.family, anna.n.value.given) == ("Müller", "Anna")
    assert anna.org.value == ["Delta Bäckerei GmbH"]
    assert anna.title.value == "Einkäuferin"
    assert [e.value for e in anna.email_list] == ["anna@delta.example", "a.mueller@home.example"]
    assert anna.email_list[0].params["PREF"] == ["1"]
    assert [t.value for t in anna.tel_list] == ["+49 30 1234567"]
    assert anna.bday.value == "19800415"
    assert anna.categories.value == ["vip", "bio"]
    dated = {line.group: line.value for line in anna.getChildren() if line.name == "X-ABDATE"}
    labels = {line.group: line.value for line in anna.getChildren() if line.name == "X-ABLABEL"}
    assert [(labels[g], dated[g]) for g in dated] == [("Name day", "20260726")]
    assert anna.note.value == 'Likes "quotes", commas, and\nnew lines'
    assert anna.x_rapport_kind.value == "customer"
    assert cards[1].fn.value == "Bob" and cards[1].n.value.given == "Bob"
    assert not hasattr(cards[1], "email")


def test_contacts_to_csv_for_spreadsheets(db: Database, tmp_path: Path) -> None:
    _people(db)
    with db.read() as s:
        rows = contacts_for_export(s)
    path = tmp_path / "contacts.csv"
    write_contacts(rows, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte order mark spreadsheets need for accents
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(table[0]) == list(CONTACT_COLUMNS)
    anna = table[0]
    assert anna["name"] == "Anna Müller" and anna["account"] == "Delta Bäckerei GmbH"
    assert anna["emails"] == "anna@delta.example; a.mueller@home.example"
    assert anna["birthday"] == "1980-04-15" and anna["tags"] == "vip; bio"
    assert anna["personal_dates"] == "Name day: 2026-07-26"
    assert anna["about"] == 'Likes "quotes", commas, and\nnew lines'  # quoted, kept whole


def test_a_selection_or_the_filters_results(db: Database) -> None:
    ids = _people(db)
    with db.read() as s:
        chosen = contacts_for_export(s, ids=[ids["zoe"], ids["bob"], ids["gone"]])
        found = contacts_for_export(s, search="Müller")
        by_account = contacts_for_export(s, search="Other")
    assert [c.name for c in chosen] == ["Bob", "Zoë Other"]  # the deleted one is left out
    assert [c.name for c in found] == ["Anna Müller"]
    assert [c.name for c in by_account] == ["Zoë Other"]


def test_an_accounts_history_to_a_folder(db: Database, tmp_path: Path) -> None:
    ids = _people(db)
    target = tmp_path / "out" / "Delta"
    with db.read() as s:
        result = export_account(
            s, ids["delta"], target, as_zip=False, now=lambda: datetime(2026, 12, 3, 9, 0)
        )
    names = sorted(p.name for p in target.iterdir())
    assert names == sorted(
        [
            "README.txt",
            "account.csv",
            "contacts.csv",
            "contacts.vcf",
            "notes.csv",
            "commitments.csv",
            "visits.csv",
            "feedback.csv",
            "purchases.csv",
            "thanks.csv",
        ]
    )
    assert result.counts["contacts"] == 2 and result.counts["notes"] == 2 and result.counts["purchases"] == 1
    notes = list(csv.DictReader(io.StringIO((target / "notes.csv").read_text(encoding="utf-8-sig"))))
    assert sorted(n["summary"] for n in notes) == ["Call about rye", "Filed under the account"]
    assert {n["contact"] for n in notes} == {"Anna Müller", ""}
    purchases = list(csv.DictReader(io.StringIO((target / "purchases.csv").read_text(encoding="utf-8-sig"))))
    assert purchases[0]["amount"] == "123.45" and purchases[0]["contact"] == "Anna Müller"
    readme = (target / "README.txt").read_text(encoding="utf-8")
    assert readme.startswith("Delta Bäckerei GmbH — exported from Rapport on 03 December 2026, 09:00")
    assert "notes.csv" in readme and "(2)" in readme
    assert len(list(vobject.readComponents((target / "contacts.vcf").read_text(encoding="utf-8")))) == 2


def test_an_accounts_history_as_one_zip(db: Database, tmp_path: Path) -> None:
    ids = _people(db)
    target = tmp_path / "delta.zip"
    with db.read() as s:
        export_account(s, ids["delta"], target, as_zip=True)
    with zipfile.ZipFile(target) as z:
        names = z.namelist()
        assert "Delta Bäckerei GmbH/README.txt" in names and "Delta Bäckerei GmbH/notes.csv" in names
        commitments = z.read("Delta Bäckerei GmbH/commitments.csv").decode("utf-8-sig")
    assert "Send samples" in commitments and "2026-12-10" in commitments
