"""What the playbook knows, on the printed sheet: health with its reasons, the last feedback with
its comment and NPS category, the last thank-you, the last order, upcoming personal dates. Real
PDFs read back with pypdf; the sheet stays one page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from models.db import Database
from models.entities import Appreciation, Feedback, Purchase
from models.services import briefing
from tests.support.briefing_data import TODAY, flat, pdf_pages, sample
from ui.printing.render import write_pdf


def sheet_pages(db: Database, contact_id: uuid.UUID, out: Path) -> list[str]:
    with db.read() as s:
        sheet = briefing.contact_sheet(s, contact_id, today=TODAY)
    write_pdf([sheet], out, paper="A4")
    return pdf_pages(out)


def test_the_sheet_says_how_the_relationship_stands(qapp: object, db: Database, tmp_path: Path) -> None:
    ids = sample(db)
    now = datetime.now(UTC)
    with db.write() as s:
        # Older than the last note (19 days): feedback and thank-yous count as a touch too.
        s.add(
            Feedback(
                score=5,
                comment="Late delivery twice",
                contact_id=ids["anna"],
                received_at=now - timedelta(days=25),
            )
        )
        s.add(
            Appreciation(
                given_at=now - timedelta(days=30),
                kind="gift",
                summary="Box of pralines",
                contact_id=ids["anna"],
            )
        )
        # One of everything, quantity and currency left at their defaults (1, EUR).
        day = TODAY - timedelta(days=2)
        s.add(
            Purchase(purchased_on=day, product="Spelt flour 10 kg", amount_cents=1990, contact_id=ids["anna"])
        )
    with db.read() as s:
        person = briefing.contact_sheet(s, ids["anna"], today=TODAY).people[0]
    assert person.health is not None and person.health.score is not None
    assert person.last_thanks is not None and person.last_thanks.summary == "Box of pralines"

    (page,) = sheet_pages(db, ids["anna"], tmp_path / "anna.pdf")
    # 19 days since the last contact against a cadence of 14; one overdue promise of ours.
    assert flat(f"HEALTH {person.health.score}/100 ({person.health.band})") in page
    assert flat("no contact for 19 days, cadence 14") in page
    assert flat("1 overdue promise to them") in page
    assert flat("last score 5/10 (detractor)") in page
    assert flat("LAST FEEDBACK 5/10 · DETRACTOR") in page and flat("“Late delivery twice”") in page
    assert flat("LAST THANK-YOU") in page and flat("Gift — Box of pralines") in page
    assert flat("LAST ORDER Spelt flour 10 kg") in page and flat("19.90 EUR") in page
    assert flat("EARLIER PURCHASES Rye flour 25 kg ×12") in page
    assert flat("Birthday (turns 46)") in page


def test_a_contact_with_no_history_prints_no_empty_lines(qapp: object, db: Database, tmp_path: Path) -> None:
    ids = sample(db)
    (page, *_rest) = sheet_pages(db, ids["ben"], tmp_path / "ben.pdf")
    assert "LASTTHANK-YOU" not in page and "LASTORDER" not in page and "LASTFEEDBACK" not in page
    assert "HEALTH" in page
