"""What a briefing sheet holds and how it falls on paper: real PDFs read back with pypdf.

Issue 9, items 11-13: a day's pile has one page per visit that fits (the ruled notes never start
a page of their own); the sheet shows every personal date's next occurrence, how to reach the
other people at the account, the account's address, emails that wrap cleanly, channels as the
app labels them; and text no installed font can draw is named, in the app and on the command
line, while everything else still prints.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QFont, QFontDatabase, QRawFont, QTextDocument
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from models.db import Database
from models.services import accounts, briefing, contacts, notes, visits
from models.services.accounts import AccountInput
from models.services.contacts import ContactInput
from models.services.notes import NoteInput
from models.services.visits import VisitInput
from tests.support.briefing_data import TODAY, at, flat, pdf_pages
from tests.support.cli import run_cli
from ui.printing import render
from ui.printing.preview import save_briefing_pdf, show_briefing_preview
from ui.tasks import TaskRunner

ROOT = Path(__file__).resolve().parents[2]
ZWSP = "\u200b"
LONG_EMAILS = [
    "maximilian.alexander.von-hohenberg-schwarzenfels@logistik-partner-international.example.com",
    "einkauf.zentrale.sueddeutschland@grosshandel.example.de",
    "ops@x.io",
]


def _shift_year(day: date, year: int) -> date:
    return day.replace(year=year) if (day.month, day.day) != (2, 29) else date(year, 2, 28)


def rich_contact(db: Database) -> dict[str, uuid.UUID]:
    """A contact with everything a rep reads before a visit, and colleagues at the account."""
    now = datetime.now(UTC)
    birthday = _shift_year(TODAY + timedelta(days=100), 1980)  # months away, not within 30 days
    wedding = _shift_year(TODAY + timedelta(days=200), 2012)
    with db.write() as s:
        account = accounts.create_account(
            s,
            AccountInput(
                "Hohenberg Logistik GmbH", address="Industriestraße 7\n70565 Stuttgart", segment="Logistics"
            ),
        )
        main = contacts.create_contact(
            s,
            ContactInput(
                "Maximilian von Hohenberg",
                account_id=account,
                role="Head of purchasing",
                emails=LONG_EMAILS,
                phones=["+49 711 555 0101", "+49 170 555 0102"],
                address="Gartenweg 3, 73728 Esslingen",
                birthday=birthday,
                personal_dates=[
                    ("Wedding anniversary", wedding),
                    ("Company jubilee", TODAY + timedelta(days=3)),
                ],
                preferences="Tea, no sugar.",
                cadence_days=21,
            ),
        )
        clara = contacts.create_contact(
            s,
            ContactInput(
                "Clara Weiss", account_id=account, role="Warehouse lead", phones=["+49 711 555 0199"]
            ),
        )
        dieter = contacts.create_contact(s, ContactInput("Dieter Brandt", account_id=account, role="CFO"))
        for i, channel in enumerate(["visit", "call", "email", "message"]):
            notes.add_note(
                s,
                NoteInput(
                    f"Interaction {channel} {i}",
                    channel=channel,
                    occurred_at=now - timedelta(days=10 + i),
                    contact_id=main,
                ),
            )
        notes.add_note(
            s,
            NoteInput("Pallet count", channel="call", occurred_at=now - timedelta(days=12), contact_id=clara),
        )
    return {"account": account, "main": main, "clara": clara, "dieter": dieter}


def contact_pdf(db: Database, contact_id: uuid.UUID, out: Path) -> list[str]:
    with db.read() as s:
        sheet = briefing.contact_sheet(s, contact_id)
    render.write_pdf([sheet], out, paper="A4")
    return pdf_pages(out)


# --- item 11: the ruled notes never start a page -----------------------------------------------


def _body_height_px() -> float:
    """The A4 body the renderer lays a page out in (layout pixels)."""
    return render._px(297 - 2 * render.MARGIN_MM - render.FOOTER_MM)


def _content_bottom(sheet: briefing.BriefingSheet) -> float:
    doc = render.build_document(sheet, width_px=render._px(210 - 2 * render.MARGIN_MM))
    return doc.documentLayout().documentSize().height()


def test_a_day_of_six_full_visits_prints_six_pages(qapp: object, db: Database, tmp_path: Path) -> None:
    """Each visit's content ends in the last few centimetres of its page: too little room for a
    full pad of lines, which used to push the Notes heading alone onto a second page."""
    page = _body_height_px()
    band = (page - render._px(30), page - render._px(8))  # under 4 ruled lines of room
    with db.write() as s:
        vids = []
        for i in range(6):
            acc = accounts.create_account(
                s, AccountInput(f"Route Stop {i + 1} AG", address=f"Weg {i + 1}, Köln")
            )
            who = contacts.create_contact(
                s, ContactInput(f"Buyer {i + 1}", account_id=acc, phones=["+49 221 555 0100"])
            )
            vids.append(
                visits.create_visit(
                    s, VisitInput(at(TODAY, 8 + i), 45, account_id=acc, contact_ids=[who], purpose="Review")
                )
            )
    for i, vid in enumerate(vids):
        # Agenda points, one line each, until the content ends in the band.
        for n in range(1, 200):
            with db.write() as s:
                inp = visits.visit_input(visits.get_visit(s, vid))
                agenda = "\n".join(f"{k}. Point {k} for stop {i + 1}" for k in range(1, n + 1))
                visits.update_visit(s, vid, dataclasses.replace(inp, agenda=agenda))
            with db.read() as s:
                bottom = _content_bottom(briefing.visit_sheet(s, vid))
            if bottom >= band[0]:
                break
        assert band[0] <= bottom <= band[1], (i, bottom, band)  # fits the page, little room left
    with db.read() as s:
        sheets = briefing.day_sheets(s, TODAY)
    out = tmp_path / "day.pdf"
    assert render.write_pdf(sheets, out, paper="A4") == 6
    pages = pdf_pages(out)
    assert len(pages) == 6
    for i, text in enumerate(pages):
        assert text.startswith(flat("VISIT ·")), i
        assert flat(f"Route Stop {i + 1} AG") in text and flat("page 1 of 1") in text


def test_a_sheet_with_room_keeps_its_notes_lines_on_the_same_page(
    qapp: object, db: Database, tmp_path: Path
) -> None:
    ids = rich_contact(db)
    (page,) = contact_pdf(db, ids["main"], tmp_path / "c.pdf")
    assert flat("Notes Rapport briefing") in page  # the heading under the content, then the footer


def test_a_two_page_sheet_ends_with_its_content_not_a_page_of_lines(
    qapp: object, db: Database, tmp_path: Path
) -> None:
    """Content that ends low on its second page: the lines fill what is left there."""
    page = _body_height_px()
    band = (2 * page - render._px(30), 2 * page - render._px(8))
    with db.write() as s:
        cid = contacts.create_contact(s, ContactInput("Long Story", role="Buyer"))
    for n in range(1, 400):
        preferences = "\n".join(f"Preference line {k}" for k in range(1, n + 1))
        with db.write() as s:
            inp = contacts.contact_input(contacts.get_contact(s, cid))
            contacts.update_contact(s, cid, dataclasses.replace(inp, preferences=preferences))
        with db.read() as s:
            sheet = briefing.contact_sheet(s, cid)
        bottom = _content_bottom(sheet)
        if bottom >= band[0]:
            break
    assert band[0] <= bottom <= band[1], (bottom, band)
    render.write_pdf([sheet], tmp_path / "long.pdf", paper="A4")
    pages = pdf_pages(tmp_path / "long.pdf")
    assert len(pages) == 2
    assert flat(f"Preference line {n}") in pages[1] and flat("page 2 of 2") in pages[1]


# --- item 12: what a rep needs to open the conversation --------------------------------------


def test_every_personal_date_shows_its_next_occurrence(qapp: object, db: Database, tmp_path: Path) -> None:
    ids = rich_contact(db)
    with db.read() as s:
        (person,) = briefing.contact_sheet(s, ids["main"], today=TODAY).people
    birthday_on = _shift_year(TODAY + timedelta(days=100), 1980).replace(
        year=(TODAY + timedelta(days=100)).year
    )
    wedding_on = TODAY + timedelta(days=200)
    assert [(d.label, d.days_away) for d in person.upcoming] == [
        ("Company jubilee", 3),  # a date still ahead comes round on the day itself
        (f"Birthday (turns {birthday_on.year - 1980})", (birthday_on - TODAY).days),
        (f"Wedding anniversary ({wedding_on.year - 2012} years)", 200),
    ]
    text = "".join(contact_pdf(db, ids["main"], tmp_path / "dates.pdf"))
    assert flat(f"Birthday (turns {birthday_on.year - 1980}): {birthday_on:%d %b %Y}") in text
    assert flat(f"(in {(birthday_on - TODAY).days} days)") in text
    assert (
        flat(f"Wedding anniversary ({wedding_on.year - 2012} years): {wedding_on:%d %b %Y} (in 200 days)")
        in text
    )
    assert flat("Company jubilee") in text and flat("(in 3 days)") in text


def test_other_people_show_phone_and_last_contact(qapp: object, db: Database, tmp_path: Path) -> None:
    ids = rich_contact(db)
    text = "".join(contact_pdf(db, ids["main"], tmp_path / "people.pdf"))
    with db.read() as s:
        (clara,) = [
            p for p in briefing.contact_sheet(s, ids["main"]).account.stakeholders if p.name == "Clara Weiss"
        ]
        stored = contacts.get_contact(s, ids["clara"]).phones[0]  # as the app formatted it
    assert clara.phone == stored and flat(stored) == "+497115550199" and clara.days_since_contact == 12
    assert flat(f"Clara Weiss Warehouse lead {stored} 12 days ago") in text
    assert flat("Dieter Brandt CFO — never") in text


def test_contact_sheet_has_the_accounts_address(qapp: object, db: Database, tmp_path: Path) -> None:
    ids = rich_contact(db)
    (first, *_) = contact_pdf(db, ids["main"], tmp_path / "addr.pdf")
    assert flat("Industriestraße 7 70565 Stuttgart") in first


def _email_lines(doc: QTextDocument) -> dict[str, list[str]]:
    """Each email paragraph of the laid-out sheet, as the lines it wrapped into."""
    found: dict[str, list[str]] = {}
    block = doc.begin()
    while block.isValid():
        text = block.text()
        plain = text.replace(ZWSP, "")
        if plain in LONG_EMAILS:
            layout = block.layout()
            lines = [layout.lineAt(i) for i in range(layout.lineCount())]
            found[plain] = [
                text[ln.textStart() : ln.textStart() + ln.textLength()].replace(ZWSP, "") for ln in lines
            ]
        block = block.next()
    return found


def test_long_emails_wrap_at_dots_each_on_its_own_line(qapp: object, db: Database, tmp_path: Path) -> None:
    ids = rich_contact(db)
    with db.read() as s:
        sheet = briefing.contact_sheet(s, ids["main"])
    doc = render.build_document(sheet, width_px=render._px(210 - 2 * render.MARGIN_MM))
    wrapped = _email_lines(doc)
    assert set(wrapped) == set(LONG_EMAILS)  # one paragraph each: none runs into the next
    assert len(wrapped[LONG_EMAILS[0]]) >= 2  # the long one did wrap
    for email, lines in wrapped.items():
        assert "".join(lines) == email
        for line, following in itertools.pairwise(lines):
            # A break after a dot, hyphen or underscore, or before the "@": never inside a word.
            assert line[-1] in ".-_+" or following.startswith("@"), (email, lines)
    text = "".join(contact_pdf(db, ids["main"], tmp_path / "mail.pdf")).replace(ZWSP, "")
    for email in LONG_EMAILS:
        assert flat(email) in text


def test_channels_print_as_the_app_labels_them(qapp: object, db: Database, tmp_path: Path) -> None:
    from ui import dialogs

    assert dialogs.CHANNEL_LABELS is notes.CHANNEL_LABELS  # one mapping, not a copy
    ids = rich_contact(db)
    text = "".join(contact_pdf(db, ids["main"], tmp_path / "ch.pdf"))
    for i, channel in enumerate(["visit", "call", "email", "message"]):
        day = (datetime.now(UTC) - timedelta(days=10 + i)).astimezone()
        row = f"{day:%d %b %Y} {notes.channel_label(channel)} Interaction {channel} {i}"
        assert flat(row) in text, row
    assert notes.channel_label("visit") == "Visit"


# --- item 13: text no installed font can draw ------------------------------------------------

# Scripts few machines have a font for; the first one no font here covers is used, so the
# warning path runs on a laptop and on CI (fonts-noto-core, -cjk, -color-emoji) alike.
RARE = {
    "Khitan Small Script": "\U00018b00\U00018b01\U00018b02",
    "Cypro-Minoan": "\U00012f90\U00012f91",
    "Toto": "\U0001e290\U0001e291",
    "Vithkuqi": "\U00010570\U00010571",
}
JAPANESE = "さくら"  # hiragana: named Japanese


def covered(text: str) -> bool:
    """Whether some installed font has every character (asked of each font directly)."""
    fonts = [QRawFont.fromFont(QFont(family)) for family in QFontDatabase.families()]
    return all(any(f.isValid() and f.supportsCharacter(ord(ch)) for f in fonts) for ch in text)


@pytest.fixture
def rare(qapp: object) -> tuple[str, str]:
    for name, text in RARE.items():
        if not covered(text):
            return name, text
    pytest.fail(f"every rare script here has a font ({', '.join(RARE)}): add a rarer one to RARE")


def script_contact(db: Database, rare_text: str) -> uuid.UUID:
    with db.write() as s:
        acc = accounts.create_account(s, AccountInput("Sakura Foods KK", address="Chiyoda 1-2-3, Tokyo"))
        return contacts.create_contact(
            s,
            ContactInput(
                f"Yamada {JAPANESE}",
                account_id=acc,
                role="Buyer",
                preferences=f"Greets in {rare_text}. Prefers green tea.",
                phones=["+81 3 5555 0100"],
            ),
        )


def expected_warnings(rare_name: str) -> tuple[list[str], list[str]]:
    """(scripts that must be named, scripts that must not be) on this machine."""
    named, not_named = [rare_name], []
    (named if not covered(JAPANESE) else not_named).append("Japanese")
    return named, not_named


def test_brief_command_names_scripts_without_a_font_and_still_prints(
    db: Database, db_path: Path, tmp_path: Path, rare: tuple[str, str]
) -> None:
    rare_name, rare_text = rare
    cid = script_contact(db, rare_text)
    db.close()
    out = tmp_path / "yamada.pdf"
    done = run_cli("brief", "--db", str(db_path), "--contact", str(cid), "--out", str(out), data=tmp_path)
    assert done.returncode == 0, done.stderr
    named, not_named = expected_warnings(rare_name)
    for script in named:
        assert f"{script} text on this sheet cannot be shown: no {script} font is installed" in done.stderr
    for script in not_named:
        assert f"{script} text" not in done.stderr
    assert "1 sheet, 1 page written" in done.stdout
    (page,) = pdf_pages(out)
    for text in (
        "Yamada",
        "Sakura Foods KK",
        "Prefers green tea.",
        "5555",
        "Chiyoda 1-2-3, Tokyo",
    ):
        assert flat(text) in page, text


def test_a_sheet_every_font_covers_warns_nothing(db: Database, db_path: Path, tmp_path: Path) -> None:
    with db.write() as s:
        cid = contacts.create_contact(s, ContactInput("Plain Latin", role="Buyer"))
    db.close()
    out = tmp_path / "plain.pdf"
    done = run_cli("brief", "--db", str(db_path), "--contact", str(cid), "--out", str(out), data=tmp_path)
    assert done.returncode == 0 and done.stderr == ""


def test_preview_warns_the_rep_about_missing_fonts(
    qtbot: QtBot, db: Database, tasks: TaskRunner, rare: tuple[str, str]
) -> None:
    rare_name, rare_text = rare
    cid = script_contact(db, rare_text)
    preview = show_briefing_preview(None, db, tasks, contact_id=cid, paper="A4")
    with qtbot.waitSignals([preview.opened, preview.warned], timeout=10_000):
        pass
    box = preview.warning_box
    assert isinstance(box, QMessageBox)
    qtbot.waitUntil(box.isVisible)
    named, not_named = expected_warnings(rare_name)
    for script in named:
        assert f"{script} text on this sheet cannot be shown: no {script} font is installed" in box.text()
    for script in not_named:
        assert f"{script} text" not in box.text()
    assert preview.dialog is not None and preview.dialog.isVisible()  # the rest still prints
    box.close()
    preview.dialog.close()


def test_saving_a_pdf_warns_and_still_saves(
    qtbot: QtBot, db: Database, tasks: TaskRunner, rare: tuple[str, str], tmp_path: Path
) -> None:
    rare_name, rare_text = rare
    cid = script_contact(db, rare_text)
    out = tmp_path / "saved.pdf"
    export = save_briefing_pdf(None, db, tasks, contact_id=cid, path=out)
    assert export is not None
    warnings: list[str] = []
    export.warned.connect(warnings.append)
    with qtbot.waitSignal(export.saved, timeout=20_000):
        pass
    (warning,) = warnings
    assert f"{rare_name} text on this sheet cannot be shown" in warning
    assert export.warning_box is not None and export.warning_box.text() == warning
    export.warning_box.close()
    assert flat("Prefers green tea.") in "".join(pdf_pages(out))


def test_scripts_are_named_as_a_rep_knows_them(qapp: object) -> None:
    from ui.printing.fonts import missing_scripts

    assert missing_scripts({"さ", "山"}) == ["Japanese"]  # kanji beside kana is Japanese
    assert missing_scripts({"山"}) == ["Chinese/Japanese"]
    assert missing_scripts({"한", "山"}) == ["Korean"]
    assert missing_scripts({"\U00018b00"}) == ["Khitan Small Script"]
    assert missing_scripts({"བ", "ا", "Ж"}) == ["Arabic", "Cyrillic", "Tibetan"]
    assert missing_scripts({"🎉"}) == ["Emoji"]


def test_a_day_names_the_sheets_with_undrawable_text(
    qapp: object, db: Database, tmp_path: Path, rare: tuple[str, str]
) -> None:
    from ui.printing.fonts import font_warning

    rare_name, rare_text = rare
    with db.write() as s:
        for hour, agenda in ((9, "Prices"), (11, f"Greeting: {rare_text}"), (14, "Samples")):
            acc = accounts.create_account(s, AccountInput(f"Stop at {hour}"))
            visits.create_visit(s, VisitInput(at(TODAY, hour), 30, account_id=acc, agenda=agenda))
    with db.read() as s:
        sheets = briefing.day_sheets(s, TODAY)
    missing: list[set[str]] = []
    assert render.write_pdf(sheets, tmp_path / "day.pdf", missing=missing) == 3
    assert [bool(m) for m in missing] == [False, True, False]
    warning = font_warning(sheets, missing)
    assert warning.startswith(
        f"{rare_name} text on 1 of the 3 sheets ({sheets[1].reference}) cannot be shown:"
        f" no {rare_name} font is installed."
    )
    assert flat("Greeting:") in pdf_pages(tmp_path / "day.pdf")[1]
