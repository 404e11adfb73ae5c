"""Briefing sheets: the gathered data, real PDFs read back with pypdf, and the `brief` command."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import event, insert

from models import errors
from models.db import Database
from models.entities import Note
from models.services import briefing
from models.services.contacts import ContactInput, create_contact
from tests.support.briefing_data import TODAY, flat, has_rtl, pdf_pages, sample
from tests.support.cli import run_cli
from tests.support.system_fonts import WritingSystem, need_font
from ui.printing.cli import gather
from ui.printing.render import default_paper, sheet_html, write_pdf

ROOT = Path(__file__).resolve().parents[2]
BIG_TABLES = {"accounts", "contacts", "notes", "commitments", "visits", "feedback", "purchases"}


@pytest.fixture
def ids(db: Database) -> dict[str, uuid.UUID]:
    return sample(db)


def contact_pdf(db: Database, contact_id: uuid.UUID, out: Path) -> list[str]:
    with db.read() as s:
        sheet = briefing.contact_sheet(s, contact_id)
    write_pdf([sheet], out, paper="A4")
    return pdf_pages(out)


def test_gathered_sheet_has_the_relationship_at_a_glance(db: Database, ids: dict[str, uuid.UUID]) -> None:
    with db.read() as s:
        sheet = briefing.contact_sheet(s, ids["anna"], today=TODAY)
    (p,) = sheet.people
    assert p.contact.account_name == "Müller Bäckerei GmbH"
    assert p.days_since_contact == 19
    assert p.overdue_days == 5  # 19 days since, cadence 14
    assert p.last_visit == (datetime.now(UTC) - timedelta(days=29)).astimezone().date()
    assert [c.what for c in p.open_commitments if c.is_overdue(TODAY)] == ["Send the revised quote"]
    assert p.latest_feedback is not None and p.latest_feedback.score == 9
    assert [d.label for d in p.upcoming] == ["Birthday (turns 46)"] or p.upcoming[0].days_away == 5
    assert [x.product for x in p.purchases] == ["Rye flour 25 kg"]
    assert len(p.interactions) == 5
    assert p.interactions[0].summary == "Asked about the <i>spring</i> catalogue"
    assert sheet.account is not None
    assert {s.name for s in sheet.account.stakeholders} == {"Ben Schmidt", "Zoë Party 🎉"}
    assert [c.what for c in sheet.account.open_commitments] == ["Share the forecast"]


def test_reference_code_finds_the_record_again(db: Database, ids: dict[str, uuid.UUID]) -> None:
    code = briefing.reference_code("C", ids["anna"])
    assert len(code) == len("C-0000-0000")
    with db.read() as s:
        assert briefing.resolve_reference(s, code) == ("contact", ids["anna"])
        assert briefing.resolve_reference(s, " " + code.lower().replace("-", "") + " ") == (
            "contact",
            ids["anna"],
        )
        visit_code = briefing.visit_sheet(s, ids["early"]).reference
        assert briefing.resolve_reference(s, visit_code) == ("visit", ids["early"])
        with pytest.raises(errors.NotFoundError):
            briefing.resolve_reference(s, "hello")
        missing = "C-" + ("0" if code[2] != "0" else "1") + code[3:]
        with pytest.raises(errors.NotFoundError):
            briefing.resolve_reference(s, missing)


def test_contact_pdf_shows_name_account_overdue_work_and_last_interaction(
    qapp: object, db: Database, ids: dict[str, uuid.UUID], tmp_path: Path
) -> None:
    pages = contact_pdf(db, ids["anna"], tmp_path / "anna.pdf")
    first = pages[0]
    for text in (
        "Anna <b>Müller</b>",  # markup typed by the rep prints as text
        "Müller Bäckerei GmbH",
        "Send the revised quote",
        "OVERDUE",
        "Asked about the <i>spring</i> catalogue",
        "<script>alert(1)</script>",
        "Birthday (turns 46)",
        "9/10",
        "Rye flour 25 kg",
        "Ben Schmidt",
        "Share the forecast",
        briefing.reference_code("C", ids["anna"]),
        "Notes",
    ):
        assert flat(text) in "".join(pages), text
    assert flat("Anna <b>Müller</b>") in first and flat("OVERDUE") in first
    assert len(pages) <= 2


def test_japanese_prints(qapp: object, db: Database, ids: dict[str, uuid.UUID], tmp_path: Path) -> None:
    need_font(WritingSystem.Japanese, "Japanese (CJK)")
    cjk = contact_pdf(db, ids["yamada"], tmp_path / "cjk.pdf")[0]
    assert flat("山田太郎") in cjk and flat("東京フーズ株式会社") in cjk
    assert flat("山田太郎") in day_heads(db, tmp_path)[2]  # the 15:00 visit


def day_heads(db: Database, tmp_path: Path) -> list[str]:
    """The first page of each of the day's visit sheets, in time order."""
    with db.read() as s:
        sheets = briefing.day_sheets(s, TODAY)
    write_pdf(sheets, tmp_path / "day.pdf")
    return [p for p in pdf_pages(tmp_path / "day.pdf") if p.startswith(flat("VISIT ·"))]


def test_arabic_and_emoji_print(
    qapp: object, db: Database, ids: dict[str, uuid.UUID], tmp_path: Path
) -> None:
    need_font(WritingSystem.Arabic, "Arabic")
    arabic = contact_pdf(db, ids["ahmed"], tmp_path / "ar.pdf")[0]
    assert has_rtl(arabic, "أحمد الفارسي") and has_rtl(arabic, "شركة الأمل للتجارة")
    assert has_rtl(day_heads(db, tmp_path)[1], "أحمد الفارسي")  # the 11:00 visit
    emoji = contact_pdf(db, ids["zoe"], tmp_path / "emoji.pdf")[0]
    # Colour emoji are drawn as bitmaps, which carry no text; the words around them must survive.
    assert flat("Zoë") in emoji and flat("Party") in emoji and flat("Buyer") in emoji


def test_visit_sheet_has_the_agenda_and_everyone_met(
    qapp: object, db: Database, ids: dict[str, uuid.UUID], tmp_path: Path
) -> None:
    with db.read() as s:
        sheet = briefing.visit_sheet(s, ids["early"])
    write_pdf([sheet], tmp_path / "v.pdf")
    text = "".join(pdf_pages(tmp_path / "v.pdf"))
    for part in (
        "Christmas volumes",
        "Delivery <b>urgent</b>",
        "Quarterly review",
        "Anna <b>Müller</b>",
        "Ben Schmidt",
        "Share the forecast",
        "09:30",
    ):
        assert flat(part) in text, part


def test_day_document_has_one_sheet_per_visit_in_time_order(
    qapp: object, db: Database, ids: dict[str, uuid.UUID], tmp_path: Path
) -> None:
    out = tmp_path / "day.pdf"
    with db.read() as s:
        sheets = briefing.day_sheets(s, TODAY)
    write_pdf(sheets, out)
    pages = pdf_pages(out)
    starts = [i for i, page in enumerate(pages) if page.startswith(flat("VISIT ·"))]
    assert len(starts) == 3
    heads = [pages[i] for i in starts]
    assert "09:30" in heads[0] and "Müller" in heads[0]
    # The second and third visits' people have Arabic and Japanese names (read by the tests that
    # need those fonts); times and reference codes print whatever the fonts.
    for head, time, visit in zip(heads[1:], ("11:00", "15:00"), ("middle", "late"), strict=True):
        assert time in head and flat(briefing.reference_code("V", ids[visit])) in head
    assert starts[0] == 0 and starts == sorted(starts)


def test_500_notes_and_long_text_make_a_sane_number_of_pages(
    qapp: object, db: Database, tmp_path: Path
) -> None:
    with db.write() as s:
        cid = create_contact(s, ContactInput("Long Story", preferences="Very long preference. " * 300))
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "occurred_at": now - timedelta(hours=i),
            "channel": "call",
            "summary": f"Call number {i}",
            "body": "word " * 400,
            "contact_id": cid,
            "account_id": None,
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
            "server_version": None,
        }
        for i in range(500)
    ]
    with db.write() as s:
        s.execute(insert(Note), rows)
    pages = contact_pdf(db, cid, tmp_path / "long.pdf")
    text = "".join(pages)
    assert 1 <= len(pages) <= 4
    assert flat("Call number 0") in text and flat("Call number 4") in text
    assert flat("Call number 5") not in text  # only the last five interactions


def test_empty_sections_are_left_out(qapp: object, db: Database, tmp_path: Path) -> None:
    with db.write() as s:
        cid = create_contact(s, ContactInput("Bare Bones"))
    (page,) = contact_pdf(db, cid, tmp_path / "bare.pdf")
    assert flat("Bare Bones") in page
    for heading in ("Remember", "Open commitments", "Last interactions", "Other people", "PHONE", "EMAIL"):
        assert flat(heading) not in page, heading
    assert flat("Notes") in page


def test_paper_size_is_selectable(
    qapp: object, db: Database, ids: dict[str, uuid.UUID], tmp_path: Path
) -> None:
    with db.read() as s:
        sheet = briefing.contact_sheet(s, ids["ben"])
    write_pdf([sheet], tmp_path / "letter.pdf", paper="Letter")
    write_pdf([sheet], tmp_path / "a4.pdf", paper="A4")
    letter = PdfReader(str(tmp_path / "letter.pdf")).pages[0].mediabox
    a4 = PdfReader(str(tmp_path / "a4.pdf")).pages[0].mediabox
    assert (round(float(letter.width)), round(float(letter.height))) == (612, 792)
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)
    assert default_paper() in ("A4", "Letter")


def test_template_escapes_everything(db: Database, ids: dict[str, uuid.UUID]) -> None:
    with db.read() as s:
        html = sheet_html(briefing.contact_sheet(s, ids["anna"]))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Anna &lt;b&gt;Müller&lt;/b&gt;" in html


def test_gather_explains_what_does_not_match(db: Database, ids: dict[str, uuid.UUID]) -> None:
    with pytest.raises(errors.AmbiguousError) as info:
        gather(db, contact="Müller Bäckerei")
    assert "Ben Schmidt" in str(info.value) and str(ids["ben"]) in str(info.value)
    with pytest.raises(errors.NotFoundError, match="No contact matches"):
        gather(db, contact="Nobody Atall")
    with pytest.raises(errors.NotFoundError, match="no visits"):
        gather(db, day=TODAY + timedelta(days=400))
    (sheet,) = gather(db, contact=briefing.reference_code("C", ids["ben"]))
    assert sheet.people[0].contact.name == "Ben Schmidt"


def test_brief_command_writes_a_pdf_and_fails_clearly(
    db: Database, db_path: Path, ids: dict[str, uuid.UUID], tmp_path: Path
) -> None:
    db.close()
    out = tmp_path / "day.pdf"
    done = run_cli(
        "brief", "--db", str(db_path), "--day", TODAY.isoformat(), "--out", str(out), data=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "3 sheets" in done.stdout and out.exists()
    assert flat("Christmas volumes") in "".join(pdf_pages(out))
    ambiguous = run_cli(
        "brief", "--db", str(db_path), "--contact", "Bäckerei", "--out", str(out), data=tmp_path
    )
    assert ambiguous.returncode == 2
    assert "more than one contact" in ambiguous.stderr and "Ben Schmidt" in ambiguous.stderr
    assert "Traceback" not in ambiguous.stderr
    empty = run_cli("brief", "--db", str(db_path), "--day", "2001-01-01", "--out", str(out), data=tmp_path)
    assert empty.returncode == 2 and "no visits planned" in empty.stderr


def test_gathering_a_sheet_never_scans_a_whole_table(db: Database, ids: dict[str, uuid.UUID]) -> None:
    """Speed on 100,000 contacts / 1,000,000 notes comes from indexes: check every query plan."""
    statements: list[tuple[str, object]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        statements.append((statement, parameters))

    event.listen(db.read_engine, "before_cursor_execute", record)
    try:
        with db.read() as s:
            briefing.contact_sheet(s, ids["anna"])
            briefing.visit_sheet(s, ids["early"])
            briefing.day_sheets(s, TODAY)
            briefing.resolve_reference(s, briefing.reference_code("C", ids["anna"]))
    finally:
        event.remove(db.read_engine, "before_cursor_execute", record)
    assert len(statements) > 20  # the listener saw the gathering
    scans = []
    with db.read_engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for statement, params in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            for row in raw.execute("EXPLAIN QUERY PLAN " + statement, params):  # type: ignore[arg-type]
                detail = str(row[-1])
                scanned = re.match(r"SCAN (\w+?)(_\d+)?\b", detail)
                # A scan of a table (not of a small subquery result) without an index is the bug.
                if scanned and scanned.group(1) in BIG_TABLES and "USING" not in detail:
                    scans.append(f"{detail}  <-  {' '.join(statement.split())[:160]}")
                # So is walking an index that is not selective: every open commitment.
                if "(status=?)" in detail:
                    scans.append(f"{detail}  <-  {' '.join(statement.split())[:160]}")
    assert scans == []


def test_default_paper_follows_the_locale() -> None:
    from PySide6.QtCore import QLocale

    assert default_paper(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)) == "Letter"
    assert default_paper(QLocale(QLocale.Language.German, QLocale.Country.Germany)) == "A4"
    assert default_paper(QLocale(QLocale.Language.Japanese, QLocale.Country.Japan)) == "A4"


def test_a_visit_with_only_an_account_still_prints(qapp: object, db: Database, tmp_path: Path) -> None:
    from models.services.accounts import AccountInput, create_account
    from models.services.visits import VisitInput, create_visit
    from tests.support.briefing_data import at

    with db.write() as s:
        acc = create_account(s, AccountInput("Lonely Logistics", address="Ringweg 1, Brno"))
        vid = create_visit(s, VisitInput(at(TODAY, 8), account_id=acc, agenda="Find the new buyer"))
    with db.read() as s:
        sheet = briefing.visit_sheet(s, vid)
    write_pdf([sheet], tmp_path / "v.pdf")
    (page,) = pdf_pages(tmp_path / "v.pdf")
    assert flat("Lonely Logistics") in page and flat("Ringweg 1, Brno") in page
    assert flat("Find the new buyer") in page and flat("LAST CONTACT") not in page


def test_a_typical_sheet_is_one_page_with_a_qr_code(
    qapp: object, db: Database, ids: dict[str, uuid.UUID], tmp_path: Path
) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QTextDocument

    from ui.printing.render import build_document, qr_url

    with db.read() as s:
        sheet = briefing.contact_sheet(s, ids["ben"])
    write_pdf([sheet], tmp_path / "ben.pdf")
    assert len(pdf_pages(tmp_path / "ben.pdf")) == 1
    doc = build_document(sheet, width_px=700)
    image = doc.resource(QTextDocument.ResourceType.ImageResource, QUrl(qr_url(sheet)))
    assert image is not None and not image.isNull()
    assert f'src="{qr_url(sheet)}"' in sheet_html(sheet)


def test_never_contacted_with_a_cadence_is_due_not_late(db: Database, ids: dict[str, uuid.UUID]) -> None:
    with db.write() as s:
        cid = create_contact(s, ContactInput("New Lead", cadence_days="30"))
    with db.read() as s:
        assert briefing.person_brief(s, cid, TODAY).overdue_days == 0
        assert briefing.person_brief(s, ids["ben"], TODAY).overdue_days is None  # no cadence
    assert flat("CHECK-IN DUE") in flat(sheet_html_for(db, cid))


def sheet_html_for(db: Database, contact_id: uuid.UUID) -> str:
    import re

    with db.read() as s:
        html = sheet_html(briefing.contact_sheet(s, contact_id))
    return re.sub(r"<[^>]+>", " ", html)
