"""Feedback, purchases and thank-yous (issue 12, the ``record`` lane) on a real SQLite file."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from models import errors
from models.db import Database
from models.entities import Commitment, OutboxEntry
from models.services import accounts, appreciation, contacts, feedback, purchases
from models.services.accounts import AccountInput
from models.services.appreciation import ThanksInput
from models.services.commitments import CommitmentInput
from models.services.contacts import ContactInput
from models.services.feedback import FeedbackInput
from models.services.purchases import PurchaseInput


@pytest.fixture
def people(db: Database) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """An account, a contact at it and a contact at none."""
    with db.write() as s:
        account = accounts.create_account(s, AccountInput(name="Acme"))
        anna = contacts.create_contact(s, ContactInput(name="Anna", account_id=account))
        bob = contacts.create_contact(s, ContactInput(name="Bob"))
    return account, anna, bob


# -- feedback ----------------------------------------------------------------------------------


def test_feedback_crud_files_it_under_the_contacts_account_and_syncs(db: Database, people: tuple) -> None:
    account, anna, _ = people
    with db.write() as s:
        fid = feedback.add_feedback(s, FeedbackInput(score="4", comment=" Slow delivery ", contact_id=anna))
    with db.read() as s:
        row = feedback.get_feedback(s, fid)
        entity = s.scalars(select(OutboxEntry.entity).where(OutboxEntry.row_id == fid)).one()
    assert (row.score, row.comment, row.account_id, row.account_name) == (4, "Slow delivery", account, "Acme")
    assert row.category == "detractor" and entity == "feedback"
    with db.write() as s:
        feedback.update_feedback(s, fid, FeedbackInput(score=9, comment="Sorted", contact_id=anna))
    with db.read() as s:
        assert [(r.score, r.comment) for r in feedback.list_feedback(s, contact_id=anna)] == [(9, "Sorted")]
        # The account's list holds its people's feedback.
        assert [r.id for r in feedback.list_feedback(s, account_id=account)] == [fid]


@pytest.mark.parametrize(
    ("score", "why"),
    [
        ("11", "from 0 to 10, not 11"),
        ("-1", "from 0 to 10, not -1"),
        ("good", "not a score"),
        ("", "Give a score"),
    ],
)
def test_a_bad_score_is_explained_and_nothing_saved(
    db: Database, people: tuple, score: str, why: str
) -> None:
    _, anna, _ = people
    with pytest.raises(errors.ValidationError) as info, db.write() as s:
        feedback.add_feedback(s, FeedbackInput(score=score, contact_id=anna))
    assert why in info.value.field_errors["score"]
    with db.read() as s:
        assert feedback.list_feedback(s, contact_id=anna) == []


def test_feedback_on_the_account_alone_and_a_comment_without_score(db: Database, people: tuple) -> None:
    account, _, _ = people
    with db.write() as s:
        fid = feedback.add_feedback(s, FeedbackInput(score="", comment="Nice people", account_id=account))
    with db.read() as s:
        (row,) = feedback.list_feedback(s, account_id=account)
    assert (row.id, row.score, row.contact_id, row.category) == (fid, None, None, None)


def test_last_feedback_is_the_latest_received(db: Database, people: tuple) -> None:
    _, anna, bob = people
    jan, mar = datetime(2026, 1, 5, 10, tzinfo=UTC), datetime(2026, 3, 5, 10, tzinfo=UTC)
    with db.write() as s:
        feedback.add_feedback(s, FeedbackInput(score=10, received_at=mar, contact_id=anna))
        feedback.add_feedback(s, FeedbackInput(score=3, received_at=jan, contact_id=anna))
    with db.read() as s:
        last = feedback.last_feedback(s, anna)
        assert last is not None and (last.score, last.received_at) == (10, mar)
        assert feedback.last_feedback(s, bob) is None


def test_a_detractors_follow_up_commitment_records_the_feedback_it_answers(
    db: Database, people: tuple
) -> None:
    _, anna, _ = people
    with db.write() as s:
        fid = feedback.add_feedback(s, FeedbackInput(score=2, contact_id=anna))
        cid = feedback.add_followup(s, fid, CommitmentInput(what="Call about the delays", contact_id=anna))
    with db.read() as s:
        row = s.get(Commitment, cid)
        assert row is not None and row.feedback_id == fid and row.what == "Call about the delays"


# -- purchases ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("1,250.50", 125050),
        ("1250,50", 125050),
        ("1.250,50", 125050),
        ("1 250,50", 125050),
        ("1'250.50", 125050),
        ("1,250", 125000),
        ("1.250.000", 125000000),
        ("12,5", 1250),
        ("0.99", 99),
        ("  42 ", 4200),
        ("", None),
    ],
)
def test_amounts_are_read_as_the_rep_writes_them(typed: str, cents: int | None) -> None:
    errs: dict[str, str] = {}
    assert purchases.parse_amount(typed, errs) == cents
    assert errs == {}


@pytest.mark.parametrize("typed", ["12,50,3", "€5", "-5", "1,25,0", "ten", "1.2.3"])
def test_a_bad_amount_is_explained(typed: str) -> None:
    errs: dict[str, str] = {}
    assert purchases.parse_amount(typed, errs) is None
    assert "not an amount" in errs["amount"]


def test_purchase_crud_in_cents_with_bad_fields_explained(db: Database, people: tuple) -> None:
    account, anna, _ = people
    with db.write() as s:
        pid = purchases.add_purchase(
            s,
            PurchaseInput(
                product="Widgets",
                purchased_on="2026-03-01",
                quantity="3",
                amount="1,250.50",
                currency="eur",
                contact_id=anna,
            ),
        )
    with db.read() as s:
        row = purchases.get_purchase(s, pid)
    assert (row.amount_cents, row.currency, row.quantity, row.account_id) == (125050, "EUR", 3, account)
    assert row.amount_text == "1,250.50 EUR"
    assert purchases.purchase_input(row).amount == "1,250.50"  # edits round-trip
    with pytest.raises(errors.ValidationError) as info, db.write() as s:
        purchases.update_purchase(
            s,
            pid,
            PurchaseInput(
                product="",
                purchased_on="01/03/2026",
                quantity="0",
                amount="abc",
                currency="EUE",
                contact_id=anna,
            ),
        )
    assert set(info.value.field_errors) == {"product", "purchased_on", "quantity", "amount", "currency"}
    assert "EUE" in info.value.field_errors["currency"]
    with db.write() as s:
        purchases.update_purchase(
            s,
            pid,
            PurchaseInput(
                product="Gadgets",
                purchased_on="2026-03-02",
                quantity=1,
                amount="99,90",
                currency="USD",
                contact_id=anna,
            ),
        )
    with db.read() as s:
        row = purchases.get_purchase(s, pid)
    assert (row.product, row.amount_cents, row.currency) == ("Gadgets", 9990, "USD")


def _buy(db: Database, day: date, cents: int | None, currency: str = "EUR", **owner: uuid.UUID) -> uuid.UUID:
    with db.write() as s:
        amount = None if cents is None else f"{cents // 100}.{cents % 100:02d}"
        return purchases.add_purchase(
            s,
            PurchaseInput(
                product=f"Order {day}", purchased_on=day, amount=amount, currency=currency, **owner
            ),
        )


def test_twelve_month_totals_cross_the_year_end_per_currency(db: Database, people: tuple) -> None:
    account, anna, bob = people
    today = date(2026, 1, 15)
    _buy(db, date(2025, 1, 15), 100_00, account_id=account)  # exactly a year ago: outside
    _buy(db, date(2025, 1, 16), 200_00, account_id=account)  # inside
    _buy(db, date(2025, 12, 31), 300_00, contact_id=anna)  # last year, inside; through its person
    _buy(db, date(2026, 1, 1), 50_00, "USD", account_id=account)
    _buy(db, date(2026, 1, 2), None, account_id=account)  # no amount: an order, no money
    _buy(db, date(2026, 2, 1), 999_00, account_id=account)  # booked for later: not yet bought
    _buy(db, date(2026, 1, 10), 7_00, contact_id=bob)  # someone else's
    with db.read() as s:
        got = purchases.account_purchases(s, account, today)
    assert got.totals_12m == (("EUR", 500_00), ("USD", 50_00))
    assert got.orders_12m == 4
    assert got.last_order is not None and got.last_order.purchased_on == date(2026, 1, 2)
    assert len(got.items) == 6 and got.items[0].purchased_on == date(2026, 2, 1)


def test_the_twelve_months_from_a_leap_day() -> None:
    assert purchases.year_before(date(2028, 2, 29)) == date(2027, 2, 28)
    assert purchases.year_before(date(2026, 3, 1)) == date(2025, 3, 1)


def test_an_account_with_no_purchases(db: Database, people: tuple) -> None:
    account, _, _ = people
    with db.read() as s:
        got = purchases.account_purchases(s, account, date(2026, 1, 1))
    assert (got.items, got.last_order, got.totals_12m, got.orders_12m) == ([], None, (), 0)


# -- thank-yous --------------------------------------------------------------------------------


def test_thanks_logged_listed_edited_and_the_last_one(db: Database, people: tuple) -> None:
    _, anna, bob = people
    pid = _buy(db, date(2026, 1, 2), 10_00, contact_id=anna)
    now = datetime.now(UTC)
    with db.write() as s:
        older = appreciation.log_thanks(
            s, ThanksInput(anna, "gift", "Wine", "purchase", pid, given_at=now - timedelta(days=3))
        )
        newer = appreciation.log_thanks(s, ThanksInput(anna, "call", "Thanked for the intro", given_at=now))
    with db.read() as s:
        rows = appreciation.list_thanks(s, anna)
        last = appreciation.last_thanks(s, anna)
        assert appreciation.last_thanks(s, bob) is None
    assert [r.id for r in rows] == [newer, older]
    assert (rows[1].reason, rows[1].reason_id) == ("purchase", pid)
    assert last is not None and last.id == newer
    with db.write() as s:
        appreciation.update_thanks(
            s, older, ThanksInput(anna, "note", "Card", "purchase", pid, given_at=now - timedelta(days=3))
        )
    with db.read() as s:
        row = appreciation.get_thanks(s, older)
    assert (row.kind, row.summary, row.reason_id) == ("note", "Card", pid)


def test_a_thank_you_needs_a_contact_and_known_choices(db: Database) -> None:
    with pytest.raises(errors.ValidationError) as info, db.write() as s:
        appreciation.log_thanks(s, ThanksInput(None, kind="flowers", reason="luck"))
    assert set(info.value.field_errors) == {"contact_id", "kind", "reason"}
