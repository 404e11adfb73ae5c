"""Reading contact files as phones, Apple, Google and Outlook write them, and refusing bad ones."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pytest

from models.db import Database
from models.errors import Cancelled
from models.services import contact_csv
from models.services.card import NO_YEAR, CardData, ImportRefused
from models.services.import_file import Prepared, prepare, read_source
from tests.support.contact_files import (
    ANDROID_21,
    APPLE_30,
    GERMAN_CSV,
    GOOGLE_30,
    GOOGLE_CSV,
    OUTLOOK_CSV,
    VCARD_40_BOM,
)


def read(tmp_path: Path, name: str, data: str | bytes, db: Database | None = None) -> Prepared:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    source = read_source(path)
    if db is None:
        return prepare(source, None)
    with db.read() as s:
        return prepare(source, s)


def only(prepared: Prepared, name: str) -> CardData:
    (card,) = [c for c in prepared.cards if c.name == name]
    return card


def test_android_21_quoted_printable_soft_breaks_latin1_and_photo(tmp_path: Path) -> None:
    got = read(tmp_path, "android.vcf", ANDROID_21)
    assert got.skipped == []
    card = only(got, "Dr. Jürgen Müller")  # FN decoded from quoted-printable UTF-8
    # The preferred number first; the soft line breaks joined inside a word and an address.
    assert card.phones == ["+49 170 1234567", "+49 30 9876543"]
    assert card.emails == ["juergen.mueller@example.de"]
    assert card.address == "Hauptstraße 5\nHinterhaus\n10115 Berlin\nDeutschland"
    assert card.about == "Mag Kaffee schwarz, keine Milch. Frühstücks-Termine bevorzugt."
    assert card.birthday == date(NO_YEAR, 4, 15)  # --0415: no year
    # N without FN, in Latin-1 as its CHARSET says.
    assert only(got, "François Lefèvre").phones == ["01 42 68 53 00"]
    assert [c.where for c in got.cards] == ["card 1 (line 1)", "card 2 (line 18)"]


def test_apple_item_labels_omitted_year_org_units_and_non_ascii(tmp_path: Path) -> None:
    card = only(read(tmp_path, "apple.vcf", APPLE_30), "Ελένη Σταυρόπουλος")
    assert card.organization == "Όμιλος Αθηνών"
    assert card.role == "Υπεύθυνη αγορών, Προμήθειες"  # the title, then the ORG's unit
    assert card.emails == ["eleni@athens-group.gr", "ΕΛΕΝΗ.S@example.gr"]
    assert card.phones == ["+30 21 0123 4567", "+30 69 1234 5678"]  # item1.TEL counts
    assert card.address == "Οδός Ερμού 10\n105 63 Αθήνα\nΕλλάδα"
    assert card.birthday == date(NO_YEAR, 3, 2)  # X-APPLE-OMIT-YEAR
    # Dated items take their X-ABLabel, Apple's own labels unwrapped from _$!<...>!$_.
    assert card.personal_dates == [
        ("Έναρξη συνεργασίας", date(2015, 9, 1)),
        ("Anniversary", date(2010, 6, 12)),
    ]
    assert (
        card.about == "Προτιμά συναντήσεις το πρωί, όχι Παρασκευή. Γνωριστήκαμε στην έκθεση της Θεσσαλονίκης."
    )
    assert card.tags == ["Πελάτες", "VIP"]


def test_google_vcard_n_without_fn_and_vcard_40_with_bom(tmp_path: Path) -> None:
    ana = only(read(tmp_path, "google.vcf", GOOGLE_30), "Ana García Márquez")
    assert ana.organization == "Panadería Delta"
    assert ana.tags == ["Clientes"]  # Google's own "myContacts" group is not a tag
    wang = only(read(tmp_path, "v4.vcf", VCARD_40_BOM), "王小明")
    assert wang.phones == ["+86-138-0013-8000"]  # the tel: URI's number
    assert wang.address == "北京市朝阳区建国路88号\n100022 北京"  # the ADR's LABEL as printed
    assert wang.birthday == date(NO_YEAR, 2, 29)  # a leap day without a year still fits
    assert wang.personal_dates == [("Anniversary", date(2012, 5, 20))]


# vCard 4.0 as a CardDAV server (Nextcloud's sabre/vobject) hands it out: the printed address in
# ADR's quoted LABEL, commas and all, line breaks as RFC 6350 writes them (\n) or as RFC 6868
# does (^n, and ^' for a double quote); a quoted list of types.
NEXTCLOUD_40 = (
    "BEGIN:VCARD\r\n"
    "VERSION:4.0\r\n"
    "PRODID:-//Sabre//Sabre VObject 4.5.4//EN\r\n"
    "UID:6f1c2a9e-3b1d-4c8e-9a57-2f0d1e4b7c11\r\n"
    "FN:Camille Durand\r\n"
    "N:Durand;Camille;;;\r\n"
    "ORG:Atelier Durand;Ventes\r\n"
    "TEL;TYPE=work;VALUE=uri:tel:+33-1-42-68-53-00\r\n"
    'TEL;TYPE="cell,pref";VALUE=uri:tel:+33-6-12-34-56-78\r\n'
    'ADR;TYPE=work;LABEL="12 Rue X, Bât. B\\n75001 Paris, France":;Bât. B;12 Rue X;Paris;;75001;\r\n'
    " France\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:4.0\r\n"
    "FN:Hélène Fabre\r\n"
    "ADR;TYPE=home;PREF=1;LABEL=\"Chez ^'Hélène^', 4 place d'Italie^n75013 Paris, France\":;;4 pl\r\n"
    " ace d'Italie;Paris;;75013;France\r\n"
    "ADR;TYPE=work:;;1 quai Z;Lyon;;69002;France\r\n"
    "END:VCARD\r\n"
)


def test_a_quoted_adr_label_keeps_its_commas(tmp_path: Path) -> None:
    got = read(tmp_path, "nextcloud.vcf", NEXTCLOUD_40)
    camille = only(got, "Camille Durand")
    assert camille.address == "12 Rue X, Bât. B\n75001 Paris, France"  # not cut at the first comma
    assert camille.phones == ["+33-6-12-34-56-78", "+33-1-42-68-53-00"]  # TYPE="cell,pref" first
    assert only(got, "Hélène Fabre").address == 'Chez "Hélène", 4 place d\'Italie\n75013 Paris, France'


def test_line_endings_do_not_matter(tmp_path: Path) -> None:
    lf = read(tmp_path, "lf.vcf", ANDROID_21.replace("\r\n", "\n"))
    crlf = read(tmp_path, "crlf.vcf", ANDROID_21)
    assert [vars(c) for c in lf.cards] == [vars(c) for c in crlf.cards]


@pytest.mark.parametrize("bom", ["", "\ufeff"], ids=["plain", "utf8-bom"])
def test_google_csv(tmp_path: Path, bom: str) -> None:
    got = read(tmp_path, "google.csv", bom + GOOGLE_CSV)  # Excel's "CSV UTF-8" starts with a BOM
    assert got.format == "Google Contacts" and not got.needs_mapping
    soren = only(got, "Søren Kierkegaard")
    assert soren.emails == ["soren@nordisk-kaffe.dk", "s.k@example.dk"]  # " ::: " splits a cell
    assert soren.phones == ["+45 20 12 34 56", "+45 33 12 34 56"]
    assert soren.role == "Indkøbschef, Indkøb"
    assert soren.address == "Strøget 1\n1160 København K\nDanmark"
    assert soren.birthday == date(NO_YEAR, 5, 5)
    assert soren.tags == ["Kunder"]
    # The row after a quoted cell over three lines, and an empty row, is named by its own line.
    assert only(got, "Ola Nordmann").where == "line 6"


def test_outlook_csv_in_windows_1252(tmp_path: Path) -> None:
    got = read(tmp_path, "outlook.csv", OUTLOOK_CSV)
    assert got.format == "Outlook"
    jose = only(got, "José Núñez")
    assert jose.organization == "Café Olé Ltd"
    assert jose.birthday == date(1981, 4, 23)  # month first
    assert jose.address == "12 Market St\nLS1 6AA Leeds\nUnited Kingdom"
    assert jose.tags == ["Customers", "Coffee"]
    assert jose.about == "Met at the trade fair, likes “single origin”"  # cp1252's curly quotes
    assert only(got, "Zoë Smith").birthday is None  # Outlook's 0/0/00


def test_semicolon_csv_is_mapped_once_then_remembered(tmp_path: Path, db: Database) -> None:
    first = read(tmp_path, "kunden.csv", GERMAN_CSV, db)
    assert first.needs_mapping and first.table is not None
    assert first.table.delimiter == ";"
    assert first.table.headers[1] == "Vorname"  # Windows-1252 decoded
    assert first.mapping == [
        "",
        "first_name",
        "last_name",
        "organization",
        "role",
        "email",
        "phone",
        "birthday",
        "about",
    ]
    with db.write() as s:
        contact_csv.remember_mapping(s, first.table.headers, first.mapping)
    again = read(tmp_path, "kunden.csv", GERMAN_CSV, db)
    assert not again.needs_mapping
    joerg = only(again, "Jörg Weiß")
    assert joerg.birthday == date(1970, 4, 15)  # day first with dots
    assert joerg.about == "Große Bestellung im März"


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("empty.vcf", b"", "The file is empty"),
        ("blank.csv", b"\r\n  \r\n", "The file is empty"),
        ("photo.vcf", bytes(range(256)) * 4, "not a text file: line 1 holds binary data"),
        ("junk.csv", b"Name,Email\nAnna,a@b.c\n\x89PNG\r\n\x1a\n\x00\x00", "line 4 holds binary data"),
        (
            "cut.vcf",
            (GOOGLE_30 + GOOGLE_30[: GOOGLE_30.index("ORG")]).encode(),
            "ends in the middle of card 2 (begun on line 10)",
        ),
        ("latin1.vcf", GOOGLE_30.encode("latin-1"), "Line 3 is not UTF-8 text"),
        ("notes.vcf", b"Shopping list\nmilk\n", "not a vCard file: line 1 reads"),
        ("cut.csv", b'Name,Notes\nAnna,"no closing quote\n', "Line 2 of the CSV file cannot be read"),
        ("utf16.csv", "Name,Email\nAnna,a@b.c\n".encode("utf-16-le"), "not a text file"),
    ],
)
def test_bad_files_are_refused_whole_naming_the_line(
    tmp_path: Path, name: str, data: bytes, says: str
) -> None:
    with pytest.raises(ImportRefused) as refused:
        read(tmp_path, name, data)
    assert says in str(refused.value)
    assert "Nothing was imported" in str(refused.value) or "nothing was imported" in str(refused.value)


def test_a_card_that_cannot_be_read_is_skipped_and_named(tmp_path: Path) -> None:
    broken = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Kim\r\nthis line has no colon\r\nEND:VCARD\r\n"
    nameless = "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:just a note\r\nEND:VCARD\r\n"
    got = read(tmp_path, "mixed.vcf", GOOGLE_30 + broken + nameless)
    assert [c.name for c in got.cards] == ["Ana García Márquez"]
    assert [(s.where, s.why) for s in got.skipped] == [
        ("card 2 (line 10)", "line 13 cannot be read (“this line has no colon”)"),
        ("card 3 (line 15)", "it has no name, email or phone"),
    ]


def big_export(path: Path, megabytes: int) -> int:
    """A phone's export with a large inline photo on every card: mostly base64 bytes."""
    photo = "PHOTO;ENCODING=b;TYPE=JPEG:" + "A" * 74 + "\r\n" + (" " + "B" * 74 + "\r\n") * 1300
    cards = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        while f.tell() < megabytes * 1024 * 1024:
            f.write(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {cards}\r\nEMAIL:p{cards}@example.com\r\n")
            f.write(photo + "END:VCARD\r\n")
            cards += 1
    return cards


def test_a_50_mb_export_is_read_with_progress_and_can_be_cancelled(tmp_path: Path) -> None:
    path = tmp_path / "everyone.vcf"
    cards = big_export(path, 50)
    source = read_source(path)
    seen: list[tuple[int, int]] = []
    started = time.monotonic()
    got = prepare(source, None, progress=lambda done, total: seen.append((done, total)))
    assert len(got.cards) == cards and got.cards[-1].name == f"Person {cards - 1}"
    assert seen and seen[-1][0] <= seen[-1][1]  # reported in lines, within the file
    assert time.monotonic() - started < 60  # photos are not parsed (generous: shared machine)

    cancel = threading.Event()

    def press_cancel(done: int, total: int) -> None:
        cancel.set()

    with pytest.raises(Cancelled):
        prepare(source, None, progress=press_cancel, cancel=cancel)


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.services import import_file

    path = tmp_path / "huge.vcf"
    path.write_bytes(GOOGLE_30.encode())
    monkeypatch.setattr(import_file, "MAX_BYTES", 100)
    with pytest.raises(ImportRefused, match="imports files of up to"):
        read_source(path)
