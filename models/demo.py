"""Sample data for newcomers and for the benchmarks: realistic, varied, and fast to make.

Rows are written with bulk Core inserts, bypassing the change-tracking hook on purpose: sample
data is for trying Rapport out and must never be pushed to a team's server.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert

from models.bulk import bulk_load
from models.db import Database
from models.demo_playbook import Playbook
from models.entities import (
    Account,
    Appreciation,
    Commitment,
    Contact,
    Feedback,
    Note,
    Purchase,
    Snooze,
    Visit,
)

FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Katarzyna",
    "Liam",
    "Mei",
    "Noah",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sven",
    "Tomás",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoë",
    "Amélie",
    "Björn",
    "Chloé",
    "Dmitri",
    "Fatima",
    "Giulia",
    "Hannah",
    "Ivan",
    "Jana",
    "Kenji",
    "Laila",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Rafael",
    "Sofia",
    "Theo",
    "Valentina",
    "William",
    "Aisha",
    "Lukas",
    "Marta",
]
LAST = [
    "Schmidt",
    "Müller",
    "Rossi",
    "García",
    "Nowak",
    "Dubois",
    "Tanaka",
    "Kowalski",
    "Johansson",
    "Smith",
    "O'Brien",
    "Silva",
    "Novak",
    "Horvat",
    "Jensen",
    "Fischer",
    "Weber",
    "Moreau",
    "Bianchi",
    "Costa",
    "Eriksson",
    "Kim",
    "Nguyen",
    "Patel",
    "Chen",
    "Yilmaz",
    "Haddad",
    "Ivanova",
    "Fernández",
    "López",
    "Martin",
    "Bernard",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schulz",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
]
COMPANY_A = [
    "Alpine",
    "Baltic",
    "Cedar",
    "Delta",
    "Evergreen",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Keystone",
    "Lumen",
    "Meridian",
    "Northwind",
    "Orchid",
    "Pioneer",
    "Quarry",
    "Riverside",
    "Summit",
    "Tidewater",
    "Union",
    "Vertex",
    "Willow",
    "Zenith",
]
COMPANY_B = [
    "Foods",
    "Logistics",
    "Hardware",
    "Pharma",
    "Textiles",
    "Motors",
    "Dairy",
    "Builders",
    "Optics",
    "Systems",
    "Outfitters",
    "Supply",
    "Bakery",
    "Printing",
    "Energy",
    "Labs",
]
COMPANY_C = ["GmbH", "Ltd", "S.A.", "Inc.", "AG", "Sp. z o.o.", "B.V.", "& Co", "SRL", "AB"]
CITIES = [
    "Berlin",
    "Munich",
    "Lyon",
    "Milan",
    "Kraków",
    "Porto",
    "Leeds",
    "Gothenburg",
    "Vienna",
    "Rotterdam",
    "Valencia",
    "Zürich",
    "Brno",
    "Aarhus",
]
STREETS = [
    "Hauptstraße",
    "Rue de la Paix",
    "Via Roma",
    "High Street",
    "Calle Mayor",
    "Ringweg",
    "Market Square",
    "Industriepark",
]
SEGMENTS = ["Retail", "Wholesale", "Hospitality", "Healthcare", "Manufacturing", "Public sector"]
TIERS = ["A", "B", "C"]
ROLES = [
    "Purchasing manager",
    "Head of operations",
    "Store owner",
    "CFO",
    "Buyer",
    "Category manager",
    "Technical lead",
    "Office manager",
    "CEO",
    "Logistics coordinator",
]
KINDS = ["customer"] * 6 + ["partner", "supplier", "colleague", "other"]
TAGS = [
    "vip",
    "golf",
    "early riser",
    "prefers email",
    "decision maker",
    "budget holder",
    "new",
    "trade fair",
    "coffee not tea",
    "vegetarian",
]
PREFS = [
    "Prefers morning meetings; no calls on Fridays.",
    "Likes detailed spreadsheets.",
    "Values punctuality, keep visits under 30 minutes.",
    "Prefers WhatsApp to email.",
    "Enjoys talking about football (supports the local club).",
    "Coffee black, no sugar.",
]
NEEDS = [
    "Shorter delivery times before the holiday season.",
    "Struggles with stock-outs on best sellers.",
    "Needs invoices split by cost centre.",
    "Looking to cut packaging waste.",
    "Wants a single contact for returns.",
    "Budget freeze until Q2.",
]
SUMMARIES = [
    "Quarterly review",
    "Discussed new price list",
    "Follow-up on delivery delay",
    "Introduced spring catalogue",
    "Complaint about damaged goods",
    "Thank-you call",
    "Asked for feedback on the last order",
    "Planned the trade fair stand",
    "Negotiated volume discount",
    "Checked in after the purchase",
    "Sent samples",
    "Met the new buyer",
    "Lunch meeting",
    "Contract renewal talk",
]
BODIES = [
    "They were happy overall but want faster answers on quotes.",
    "Mentioned their daughter starts university in the autumn.",
    "Asked us to include the recycled range next time.",
    "Warehouse is being renovated until March; deliveries to the back gate.",
    "Competitor offered 5% less; we agreed to review the terms.",
    "",
]
PROMISES_WE = [
    "Send the revised quote",
    "Deliver samples of the new range",
    "Call back about the invoice",
    "Send a thank-you note",
    "Arrange a demo with our technician",
    "Check stock for the spring order",
]
PROMISES_THEY = [
    "Send the signed contract",
    "Confirm the order quantities",
    "Share the forecast for Q3",
    "Introduce us to their new CFO",
    "Return the feedback form",
]
CHANNELS = ["visit", "call", "call", "email", "email", "message", "other"]
PURPOSES = [
    "Quarterly review",
    "Present the spring catalogue",
    "Contract renewal",
    "Sort out the delivery complaint",
    "Introduce our new technician",
    "Stock check before the holidays",
    "Meet the new buyer",
]
AGENDAS = [
    "1. Review last quarter's orders\n2. Delivery times\n3. Next season's volumes",
    "1. Walk through the catalogue\n2. Leave samples\n3. Agree a trial order",
    "1. Renewal terms\n2. Volume discount\n3. Payment terms",
    "Apologise for the damaged pallet; agree the credit note and the new packaging.",
    "",
]
PRODUCTS = [
    ("Rye flour 25 kg", 3900),
    ("Display fridge", 149000),
    ("Recycled packaging, 1,000 pcs", 12500),
    ("Espresso machine service", 18000),
    ("Spring range starter kit", 56000),
    ("Shelf labels", 2400),
]
FEEDBACK = [
    "Quick answers, thank you.",
    "Deliveries were late twice.",
    "Great samples.",
    "",
    "Price is too high.",
]
VISITS_PER_DAY = 5
VISIT_DAYS = 7


def _batches(
    make: Callable[[int], dict[str, Any]], total: int, size: int = 20_000
) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, total, size):
        yield [make(i) for i in range(start, min(total, start + size))]


def fill_demo(
    db: Database,
    contacts: int = 200,
    notes_per_contact: float = 10.0,
    seed: int = 7,
    progress: Callable[[str, float], None] | None = None,
) -> dict[str, int]:
    """Add sample accounts, contacts of every kind, notes and commitments (some overdue)."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    n_accounts = max(1, contacts // 8)
    n_notes = int(contacts * notes_per_contact)
    n_commitments = max(1, contacts // 2)
    account_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(n_accounts)]
    contact_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(contacts)]
    contact_account = [rng.choice(account_ids) if rng.random() < 0.9 else None for _ in contact_ids]
    base = {"created_at": now, "updated_at": now, "deleted_at": None, "server_version": None}
    play = Playbook(random.Random(seed + 1), now, contact_ids, contact_account, base)

    def account(i: int) -> dict[str, Any]:
        name = f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)} {rng.choice(COMPANY_C)}"
        city = rng.choice(CITIES)
        return {
            **base,
            "id": account_ids[i],
            "name": name,
            "address": f"{rng.choice(STREETS)} {rng.randint(1, 200)}, {city}",
            "segment": rng.choice(SEGMENTS),
            "tier": rng.choice(TIERS),
            "about": "",
        }

    def contact(i: int) -> dict[str, Any]:
        return play.contact(i, plain_contact(i))

    def plain_contact(i: int) -> dict[str, Any]:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        handle = f"{first}.{last}".lower().replace("'", "")
        birthday = (
            date(rng.randint(1955, 2000), 1, 1) + timedelta(days=rng.randint(0, 364))
            if rng.random() < 0.6
            else None
        )
        return {
            **base,
            "id": contact_ids[i],
            "name": f"{first} {last}",
            "kind": rng.choice(KINDS),
            "account_id": contact_account[i],
            "role": rng.choice(ROLES),
            "emails": [f"{handle}@example.com"],
            "phones": [f"+49 30 {rng.randint(1000000, 9999999)}"],
            "address": f"{rng.choice(STREETS)} {rng.randint(1, 200)}, {rng.choice(CITIES)}",
            "birthday": birthday,
            "personal_dates": [],
            "preferences": rng.choice(PREFS),
            "needs": rng.choice(NEEDS),
            "tags": rng.sample(TAGS, rng.randint(0, 3)),
            "about": "",
            "cadence_days": rng.choice([None, 14, 30, 30, 60, 90]),
        }

    def note(i: int) -> dict[str, Any]:
        ci = i % contacts
        when = now - timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
        return play.note(
            i,
            ci,
            {
                **base,
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "occurred_at": when,
                "channel": rng.choice(CHANNELS),
                "summary": rng.choice(SUMMARIES),
                "body": rng.choice(BODIES),
                "contact_id": contact_ids[ci],
                "account_id": contact_account[ci],
            },
        )

    def commitment(i: int) -> dict[str, Any]:
        ci = rng.randrange(contacts)
        we = rng.random() < 0.6
        due = today + timedelta(days=rng.randint(-30, 45))
        status = "open" if rng.random() < 0.6 else rng.choice(["done", "done", "cancelled"])
        # Done around the due day, and never later than now: a promise due next week may be
        # done already, not done tomorrow.
        done_at = (
            min(datetime.combine(due, datetime.min.time(), UTC) + timedelta(days=rng.randint(-5, 3)), now)
            if status == "done"
            else None
        )
        return play.commitment(
            ci,
            {
                **base,
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "direction": "we" if we else "they",
                "what": rng.choice(PROMISES_WE if we else PROMISES_THEY),
                "due_date": due,
                "status": status,
                "done_at": done_at,
                "contact_id": contact_ids[ci],
                "account_id": contact_account[ci],
            },
        )

    by_account: dict[uuid.UUID, list[int]] = {}
    for ci, aid in enumerate(contact_account):
        if aid is not None:
            by_account.setdefault(aid, []).append(ci)
    visited: list[uuid.UUID | None] = [*by_account] or [None]

    def visit(i: int) -> dict[str, Any]:
        # A route for today and the coming days, in local time: 08:30, then every ~1h45.
        day = today + timedelta(days=i // VISITS_PER_DAY)
        slot = i % VISITS_PER_DAY
        starts = datetime.combine(day, time(8, 30)).astimezone() + timedelta(minutes=105 * slot)
        aid = rng.choice(visited)
        people = by_account.get(aid, []) if aid else []
        met = rng.sample(people, min(len(people), rng.choice([1, 1, 2]))) if people else []
        return {
            **base,
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "starts_at": starts,
            "duration_minutes": rng.choice([30, 45, 60, 90]),
            "location": "",
            "account_id": aid,
            "contact_ids": [str(contact_ids[ci]) for ci in met],
            "purpose": rng.choice(PURPOSES),
            "agenda": rng.choice(AGENDAS),
            "status": "planned",
        }

    def feedback(i: int) -> dict[str, Any]:
        ci = rng.randrange(contacts)
        return play.feedback(
            {
                **base,
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "received_at": now - timedelta(days=rng.randint(0, 700)),
                "score": rng.choice([3, 6, 7, 8, 8, 9, 9, 10]),
                "comment": rng.choice(FEEDBACK),
                "contact_id": contact_ids[ci],
                "account_id": contact_account[ci],
            }
        )

    def purchase(i: int) -> dict[str, Any]:
        ci = rng.randrange(contacts)
        product, cents = rng.choice(PRODUCTS)
        quantity = rng.choice([1, 1, 2, 5, 10])
        return play.purchase(
            {
                **base,
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "purchased_on": today - timedelta(days=rng.randint(1, 500)),
                "product": product,
                "quantity": quantity,
                "amount_cents": cents * quantity,
                "currency": "EUR",
                "contact_id": contact_ids[ci],
                "account_id": contact_account[ci],
            }
        )

    n_visits = VISITS_PER_DAY * VISIT_DAYS
    n_feedback = max(1, contacts // 5)
    n_purchases = max(1, contacts // 2)
    # The last weeks' orders and answers, for Today's follow-ups and detractors (demo_playbook).
    n_recent = max(4, contacts // 40)
    plan = [
        (Account, account, n_accounts),
        (Contact, contact, contacts),
        (Note, note, n_notes),
        (Commitment, commitment, n_commitments),
        (Visit, visit, n_visits),
        (Feedback, feedback, n_feedback),
        (Purchase, purchase, n_purchases),
        (Purchase, lambda i: play.recent_purchase(purchase(i)), n_recent),
        (Feedback, lambda i: play.recent_feedback(feedback(i)), n_recent),
    ]
    done_rows, total_rows = 0, sum(n for *_, n in plan)
    with db.write_engine.begin() as conn, bulk_load(conn):
        for cls, make, count in plan:
            for batch in _batches(make, count):
                conn.execute(insert(cls.__table__), batch)  # type: ignore[attr-defined,arg-type]
                done_rows += len(batch)
                if progress:
                    progress(f"Adding {cls.__tablename__}…", done_rows / total_rows)
        # Made from what the plan recorded: its sizes are known only now.
        extra = [
            (Commitment, play.call_backs()),
            (Appreciation, play.thank_yous()),
            (Snooze, play.snoozes()),
        ]
        for cls, rows in extra:
            for start in range(0, len(rows), 20_000):
                conn.execute(insert(cls.__table__), rows[start : start + 20_000])  # type: ignore[attr-defined,arg-type]
    # Visits planned "at the account" meet there: fill the location as the service would.
    with db.write_engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE visits SET location = (SELECT address FROM accounts WHERE accounts.id = visits.account_id)"
            " WHERE location = '' AND account_id IS NOT NULL"
        )
    return {
        "accounts": n_accounts,
        "contacts": contacts,
        "notes": n_notes,
        "commitments": n_commitments + len(extra[0][1]),
        "visits": n_visits,
        "feedback": n_feedback + n_recent,
        "purchases": n_purchases + n_recent,
        "thank-yous": len(extra[1][1]),
        "snoozed items": len(extra[2][1]),
    }
