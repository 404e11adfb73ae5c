"""``main.py import`` as a real process: the preview's figures, --dry-run, refusals."""

from __future__ import annotations

from pathlib import Path

from models.db import open_database
from models.services.contacts import ContactInput, count_contacts, create_contact
from models.services.export import contacts_for_export, write_contacts
from tests.support.cli import run_cli
from tests.support.contact_files import APPLE_30, GERMAN_CSV, GOOGLE_30


def contacts_in(db_path: Path) -> int:
    db = open_database(db_path)
    try:
        with db.read() as s:
            return count_contacts(s)
    finally:
        db.close()


def test_dry_run_then_import_then_again(tmp_path: Path) -> None:
    db, vcf = tmp_path / "rapport.sqlite", tmp_path / "phone.vcf"
    vcf.write_text(
        GOOGLE_30 + APPLE_30 + "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:x\r\nEND:VCARD\r\n", encoding="utf-8"
    )
    dry = run_cli("import", "--db", str(db), str(vcf), "--dry-run", data=tmp_path / "data")
    assert dry.returncode == 0, dry.stderr
    assert "phone.vcf (vCard): 3 cards" in dry.stdout
    assert "new contacts:        2" in dry.stdout
    assert "new accounts:        2" in dry.stdout
    assert "card 3 (line 34): it has no name, email or phone" in dry.stdout
    assert "Dry run: nothing was written." in dry.stdout
    assert contacts_in(db) == 0
    done = run_cli("import", "--db", str(db), str(vcf), data=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert "Imported: 2 new contacts, 0 filled in, 2 new accounts." in done.stdout
    again = run_cli("import", "--db", str(db), str(vcf), data=tmp_path / "data")
    assert "matching existing:   2 (0 to fill in, 2 already up to date)" in again.stdout
    assert "Nothing to import" in again.stdout
    assert contacts_in(db) == 2


def test_a_refused_file_exits_non_zero_naming_the_line(tmp_path: Path) -> None:
    db, vcf = tmp_path / "rapport.sqlite", tmp_path / "cut.vcf"
    vcf.write_text(GOOGLE_30 + "BEGIN:VCARD\r\nFN:Half", encoding="utf-8")
    out = run_cli("import", "--db", str(db), str(vcf), data=tmp_path / "data")
    assert out.returncode == 2
    assert "ends in the middle of card 2 (begun on line 10)" in out.stderr
    assert out.stdout == ""


def test_unknown_csv_columns_need_a_map(tmp_path: Path) -> None:
    db, csv = tmp_path / "rapport.sqlite", tmp_path / "kunden.csv"
    csv.write_bytes(GERMAN_CSV)
    out = run_cli("import", "--db", str(db), str(csv), data=tmp_path / "data")
    assert out.returncode == 2
    assert "“Vorname”" in out.stderr and "--map" in out.stderr
    mapped = run_cli(
        "import",
        "--db",
        str(db),
        str(csv),
        "--map",
        "Vorname=first_name",
        "--map",
        "Nachname=last_name",
        "--map",
        "E-Mail-Adresse=email",
        data=tmp_path / "data",
    )
    assert mapped.returncode == 0, mapped.stderr
    assert "Imported: 1 new contact, 0 filled in, 0 new accounts." in mapped.stdout
    # Remembered: the same columns need no --map the next time.
    again = run_cli("import", "--db", str(db), str(csv), "--dry-run", data=tmp_path / "data")
    assert again.returncode == 0, again.stderr
    assert "already up to date" in again.stdout


def test_rapports_own_csv_export_needs_no_map(tmp_path: Path) -> None:
    source = open_database(tmp_path / "laptop.sqlite")
    try:
        with source.write() as s:
            create_contact(s, ContactInput(name="Zoë Weiß", kind="partner", emails=["zoe@example.com"]))
        with source.read() as s:
            write_contacts(contacts_for_export(s), tmp_path / "contacts.csv")
    finally:
        source.close()
    db = tmp_path / "other.sqlite"
    out = run_cli("import", "--db", str(db), str(tmp_path / "contacts.csv"), data=tmp_path / "data")
    assert out.returncode == 0, out.stderr
    assert "contacts.csv (Rapport): 1 row" in out.stdout
    assert "Imported: 1 new contact, 0 filled in, 0 new accounts." in out.stdout
