"""Sample records for the visit and briefing tests: every script, markup-looking text, overdue work."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from pypdf import PdfReader

from models.db import Database
from models.entities import Feedback, Purchase
from models.services import accounts, commitments, contacts, notes, visits
from models.services.accounts import AccountInput
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput
from models.services.notes import NoteInput
from models.services.visits import VisitInput

TODAY = date.today()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock time on ``day`` (what a rep types)."""
    return datetime.combine(day, time(hour, minute)).astimezone()


def sample(db: Database) -> dict[str, uuid.UUID]:
    now = datetime.now(UTC)
    with db.write() as s:
        bakery = accounts.create_account(
            s, AccountInput("Müller Bäckerei GmbH", address="Hauptstraße 12, 10115 Berlin", tier="A")
        )
        tokyo = accounts.create_account(s, AccountInput("東京フーズ株式会社", address="東京都千代田区1-2-3"))
        riyadh = accounts.create_account(
            s, AccountInput("شركة الأمل للتجارة", address="شارع الملك فهد، الرياض")
        )
        anna = contacts.create_contact(
            s,
            ContactInput(
                "Anna <b>Müller</b>",
                account_id=bakery,
                role="Purchasing manager",
                emails=["anna@mueller.de"],
                phones=["+49 30 1234567"],
                birthday=(TODAY + timedelta(days=5)).replace(year=1980),  # 1980 is a leap year
                preferences="Coffee black. <script>alert(1)</script> Never on Fridays.",
                needs="Shorter delivery times before Christmas.",
                tags=["vip", "golf"],
                cadence_days=14,
            ),
        )
        ben = contacts.create_contact(
            s, ContactInput("Ben Schmidt", account_id=bakery, role="CFO", kind="partner")
        )
        yamada = contacts.create_contact(s, ContactInput("山田太郎", account_id=tokyo, role="Buyer"))
        ahmed = contacts.create_contact(s, ContactInput("أحمد الفارسي", account_id=riyadh, role="Manager"))
        zoe = contacts.create_contact(s, ContactInput("Zoë Party 🎉", account_id=bakery, role="Buyer 🚀"))
        for i in range(7):
            notes.add_note(
                s,
                NoteInput(
                    f"Quarterly review {i}",
                    channel="visit" if i % 2 else "call",
                    occurred_at=now - timedelta(days=20 + 9 * i),
                    contact_id=anna,
                ),
            )
        notes.add_note(
            s,
            NoteInput(
                "Asked about the <i>spring</i> catalogue",
                contact_id=anna,
                occurred_at=now - timedelta(days=19),
            ),
        )
        commitments.add_commitment(
            s, CommitmentInput("Send the revised quote", due_date=TODAY - timedelta(days=4), contact_id=anna)
        )
        commitments.add_commitment(
            s,
            CommitmentInput(
                "Confirm the order quantities",
                direction="they",
                due_date=TODAY + timedelta(days=6),
                contact_id=anna,
            ),
        )
        commitments.add_commitment(
            s,
            CommitmentInput(
                "Share the forecast", direction="they", due_date=TODAY - timedelta(days=1), contact_id=ben
            ),
        )
        s.add(
            Feedback(
                score=9,
                comment="Great service",
                contact_id=anna,
                account_id=bakery,
                received_at=now - timedelta(days=30),
            )
        )
        s.add(
            Purchase(
                purchased_on=TODAY - timedelta(days=40),
                product="Rye flour 25 kg",
                quantity=12,
                amount_cents=45000,
                currency="EUR",
                contact_id=anna,
                account_id=bakery,
            )
        )
        # Created out of order on purpose: the day's route is sorted by time, not by creation.
        late = visits.create_visit(
            s,
            VisitInput(
                at(TODAY, 15), 60, contact_ids=[yamada], purpose="New range", agenda="Bring the 価格表"
            ),
        )
        early = visits.create_visit(
            s,
            VisitInput(
                at(TODAY, 9, 30),
                45,
                contact_ids=[anna, ben],
                purpose="Quarterly review",
                agenda="1. Christmas volumes\n2. Delivery <b>urgent</b>",
            ),
        )
        middle = visits.create_visit(
            s, VisitInput(at(TODAY, 11), 30, contact_ids=[ahmed], purpose="Follow-up")
        )
    return {
        "bakery": bakery,
        "anna": anna,
        "ben": ben,
        "yamada": yamada,
        "ahmed": ahmed,
        "zoe": zoe,
        "early": early,
        "middle": middle,
        "late": late,
    }


def pdf_pages(path: Path) -> list[str]:
    """Each page's text, normalised: NFKC (ligatures, CJK radicals) and no whitespace at all,
    since Qt's PDFs put tabs and line breaks between runs."""
    reader = PdfReader(str(path))
    return [flat(page.extract_text()) for page in reader.pages]


def flat(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def has_rtl(page: str, text: str) -> bool:
    """Right-to-left words come out of the PDF in visual order: accept either order per word.

    A lam-alef ligature is one glyph whose text stays in logical order inside a reversed word.
    """

    def visual(word: str) -> str:
        rev = flat(word)[::-1]
        for alef in "اأإآ":
            rev = rev.replace(alef + "ل", "ل" + alef)
        return rev

    return all(flat(w) in page or visual(w) in page for w in text.split())
