"""Briefing sheets: everything a rep should read before walking into a visit, as plain data.

Every query here goes through an index (contact id, account id, note/feedback/purchase by
contact and time), so a sheet costs the same on a 100,000-contact database as on a small one.
The renderer (ui/printing) turns a :class:`BriefingSheet` into paper or PDF.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import String, func, select, type_coerce, union
from sqlalchemy.orm import Session

from models.entities import (
    Appreciation,
    Channel,
    Commitment,
    CommitmentStatus,
    Contact,
    Feedback,
    Note,
    Purchase,
    Visit,
    VisitStatus,
)
from models.errors import AmbiguousError, NotFoundError
from models.rows import AccountRow, CommitmentRow, ContactDetail, FeedbackRow, NoteRow, PurchaseRow, VisitRow
from models.services.accounts import get_account
from models.services.commitments import _by_due as order_by_due
from models.services.commitments import _select as commitment_select
from models.services.commitments import list_commitments
from models.services.contacts import get_contact
from models.services.health import Health, contact_health
from models.services.notes import timeline
from models.services.visits import get_visit, visits_of_account, visits_on

INTERACTIONS = 5
STAKEHOLDERS = 12
ACCOUNT_COMMITMENTS = 10
PURCHASES = 5


@dataclass(frozen=True, slots=True)
class UpcomingDate:
    """The next time a personal date comes round; ``label`` carries the age or years if known."""

    label: str
    on: date
    days_away: int


@dataclass(frozen=True, slots=True)
class Stakeholder:
    id: uuid.UUID
    name: str
    role: str
    kind: str
    phone: str  # the first number: enough to call from the car park
    days_since_contact: int | None


@dataclass(frozen=True, slots=True)
class ThanksBrief:
    """The last thank-you given to someone: when, how (note, gift, call, event) and what."""

    given_at: datetime
    kind: str
    summary: str


@dataclass(frozen=True, slots=True)
class PersonBrief:
    """One person on a sheet: who they are, how the relationship stands, what to remember."""

    contact: ContactDetail
    reference: str
    days_since_contact: int | None
    overdue_days: int | None  # days past the cadence; 0 = due now (never contacted); None = not due
    last_visit: date | None
    open_commitments: tuple[CommitmentRow, ...]
    latest_feedback: FeedbackRow | None
    upcoming: tuple[UpcomingDate, ...]
    purchases: tuple[PurchaseRow, ...]
    interactions: tuple[NoteRow, ...]
    health: Health | None = None
    last_thanks: ThanksBrief | None = None


@dataclass(frozen=True, slots=True)
class AccountBrief:
    account: AccountRow
    stakeholders: tuple[Stakeholder, ...]
    more_stakeholders: int
    open_commitments: tuple[CommitmentRow, ...]
    more_commitments: int


@dataclass(frozen=True, slots=True)
class BriefingSheet:
    """One sheet: a visit (with its people) or a single contact."""

    reference: str
    prepared_on: date
    visit: VisitRow | None
    people: tuple[PersonBrief, ...]
    account: AccountBrief | None

    @property
    def title(self) -> str:
        if self.visit is not None and self.visit.account_name:
            return self.visit.account_name
        if self.people:
            return self.people[0].contact.name
        return self.account.account.name if self.account else "Visit"


# --- reference codes -------------------------------------------------------------------------

_PREFIX: dict[str, type[Contact] | type[Visit]] = {"C": Contact, "V": Visit}
_CODE = re.compile(r"^([CV])-?([0-9A-F]{4})-?([0-9A-F]{4,28})$")


def reference_code(kind: str, row_id: uuid.UUID) -> str:
    """A short code printed on the sheet (``C-7F3A-91B2``) that finds the record again.

    32 bits of the UUID: typed by hand in seconds, and a clash among a rep's records is rare
    (and reported as ambiguous, never resolved to the wrong person).
    """
    hexed = row_id.hex.upper()
    return f"{kind}-{hexed[:4]}-{hexed[4:8]}"


def resolve_reference(session: Session, code: str) -> tuple[str, uuid.UUID]:
    """The ("contact" | "visit", id) a reference code names. Uses the primary-key index."""
    cleaned = re.sub(r"\s+", "", code).upper()
    match = _CODE.match(cleaned)
    if not match:
        raise NotFoundError(f"“{code}” is not a reference code (they look like C-7F3A-91B2).")
    letter, prefix = match.group(1), (match.group(2) + match.group(3)).lower()
    cls = _PREFIX[letter]
    # Ids are stored as 32 hex characters: a range on the raw text walks the primary key.
    raw_id = type_coerce(cls.id, String)
    ids = list(
        session.scalars(
            select(cls.id).where(raw_id >= prefix, raw_id < prefix + "g", cls.deleted_at.is_(None)).limit(2)
        )
    )
    if not ids:
        raise NotFoundError(f"Nothing has the reference code {code.strip()} (it may have been deleted).")
    if len(ids) > 1:
        raise AmbiguousError(f"More than one record has the code {code.strip()}; type more of it.")
    return ("contact" if cls is Contact else "visit"), ids[0]


# --- gathering -------------------------------------------------------------------------------


def _next_anniversary(original: date, today: date) -> date:
    if original >= today:
        return original  # a date still ahead (a planned event) comes round on the day itself
    for year in (today.year, today.year + 1):
        try:
            candidate = original.replace(year=year)
        except ValueError:  # 29 February outside a leap year: celebrated on the 28th
            candidate = date(year, 2, 28)
        if candidate >= today:
            return candidate
    return original  # unreachable: next year is always >= today


def upcoming_dates(detail: ContactDetail, today: date) -> list[UpcomingDate]:
    """The next occurrence of the birthday and of every personal date, soonest first.

    All of them, however far away: a birthday in March is worth knowing in December.
    """
    found: list[UpcomingDate] = []
    if detail.birthday is not None:
        on = _next_anniversary(detail.birthday, today)
        age = on.year - detail.birthday.year
        # A birthday typed with a placeholder year (0001, 1900) says nothing about the age.
        label = f"Birthday (turns {age})" if 0 < age < 120 else "Birthday"
        found.append(UpcomingDate(label, on, (on - today).days))
    for label, raw in detail.personal_dates:
        try:
            original = date.fromisoformat(raw)
        except ValueError:
            continue
        on = _next_anniversary(original, today)
        years = on.year - original.year
        if 0 < years < 200:
            label = f"{label} ({years} year{'' if years == 1 else 's'})"
        found.append(UpcomingDate(label, on, (on - today).days))
    return sorted(found, key=lambda d: d.days_away)


def _local_date(when: datetime) -> date:
    return when.astimezone().date()


def person_brief(session: Session, contact_id: uuid.UUID, today: date) -> PersonBrief:
    detail = get_contact(session, contact_id)
    days_since = overdue = None
    if detail.last_contact_at is not None:
        days_since = (today - _local_date(detail.last_contact_at)).days
    if detail.cadence_days is not None:
        if days_since is None:
            overdue = 0  # never contacted: a check-in is due now, but it is not "n days late"
        elif days_since > detail.cadence_days:
            overdue = days_since - detail.cadence_days
    last_visit_at = session.scalar(
        select(func.max(Note.occurred_at)).where(
            Note.contact_id == contact_id, Note.channel == Channel.VISIT.value, Note.deleted_at.is_(None)
        )
    )
    last_visit = _local_date(last_visit_at) if last_visit_at else None
    if detail.account_id is not None:
        # A done visit without a typed-up note still counts as the last visit.
        done = [
            v.starts_at
            for v in visits_of_account(session, detail.account_id)
            if v.status == VisitStatus.DONE.value and contact_id in v.contact_ids
        ]
        if done:
            last_visit = max(filter(None, [last_visit, _local_date(max(done))]))
    fb = session.execute(
        select(Feedback.id, Feedback.received_at, Feedback.score, Feedback.comment)
        .where(Feedback.contact_id == contact_id, Feedback.deleted_at.is_(None))
        .order_by(Feedback.received_at.desc())
        .limit(1)
    ).first()
    purchases = session.execute(
        select(
            Purchase.id,
            Purchase.purchased_on,
            Purchase.product,
            Purchase.quantity,
            Purchase.amount_cents,
            Purchase.currency,
        )
        .where(Purchase.contact_id == contact_id, Purchase.deleted_at.is_(None))
        .order_by(Purchase.purchased_on.desc())
        .limit(PURCHASES)
    )
    thanks = session.execute(
        select(Appreciation.given_at, Appreciation.kind, Appreciation.summary)
        .where(Appreciation.contact_id == contact_id, Appreciation.deleted_at.is_(None))
        .order_by(Appreciation.given_at.desc())
        .limit(1)
    ).first()
    return PersonBrief(
        contact=detail,
        reference=reference_code("C", contact_id),
        days_since_contact=days_since,
        overdue_days=overdue,
        last_visit=last_visit,
        open_commitments=tuple(list_commitments(session, contact_id=contact_id, limit=50)),
        latest_feedback=FeedbackRow(*fb) if fb else None,
        upcoming=tuple(upcoming_dates(detail, today)),
        purchases=tuple(PurchaseRow(*p) for p in purchases),
        interactions=tuple(timeline(session, contact_id=contact_id, limit=INTERACTIONS)),
        health=contact_health(session, contact_id, today),
        last_thanks=ThanksBrief(*thanks) if thanks else None,
    )


def account_commitments(session: Session, account_id: uuid.UUID, limit: int = 200) -> list[CommitmentRow]:
    """Open commitments filed under the account or made with its people.

    ``list_commitments(account_id=...)`` puts both in one OR, which SQLite answers by walking
    every open commitment (the status index): 27 ms on a 100,000-contact database. A union of
    the two indexed lookups finds the same rows in well under a millisecond.
    """
    people = select(Contact.id).where(Contact.account_id == account_id)
    ids = union(
        select(Commitment.id).where(Commitment.account_id == account_id),
        select(Commitment.id).where(Commitment.contact_id.in_(people)),
    )
    # ``status || ''`` keeps SQLite from choosing the status index (every open commitment) over
    # the handful of ids the union found.
    stmt = commitment_select().where(
        Commitment.id.in_(select(ids.subquery().c.id)),
        Commitment.status.op("||")("") == CommitmentStatus.OPEN.value,
    )
    return [CommitmentRow(*r) for r in session.execute(order_by_due(stmt).limit(limit))]


def account_brief(
    session: Session, account_id: uuid.UUID, exclude: set[uuid.UUID], today: date
) -> AccountBrief | None:
    """The account's other people (how to reach them, when they last heard from us) and its
    open commitments not already shown with a person."""
    try:
        account = get_account(session, account_id)
    except NotFoundError:
        return None
    rows = session.execute(
        select(Contact.id, Contact.name, Contact.role, Contact.kind, Contact.phones, Contact.last_contact_at)
        .where(Contact.account_id == account_id, Contact.deleted_at.is_(None))
        .order_by(Contact.name)
        .limit(STAKEHOLDERS + len(exclude))
    )
    people = [
        Stakeholder(
            cid,
            name,
            role,
            kind,
            phones[0] if phones else "",
            (today - _local_date(last)).days if last is not None else None,
        )
        for cid, name, role, kind, phones, last in rows
        if cid not in exclude
    ][:STAKEHOLDERS]
    total = session.scalar(
        select(func.count()).where(
            Contact.account_id == account_id, Contact.deleted_at.is_(None), Contact.id.not_in(exclude)
        )
    )
    others = max(0, int(total or 0) - len(people))
    commitments = [c for c in account_commitments(session, account_id) if c.contact_id not in exclude]
    return AccountBrief(
        account=account,
        stakeholders=tuple(people),
        more_stakeholders=others,
        open_commitments=tuple(commitments[:ACCOUNT_COMMITMENTS]),
        more_commitments=max(0, len(commitments) - ACCOUNT_COMMITMENTS),
    )


def _today() -> date:
    return datetime.now(UTC).astimezone().date()


def contact_sheet(session: Session, contact_id: uuid.UUID, today: date | None = None) -> BriefingSheet:
    today = today or _today()
    person = person_brief(session, contact_id, today)
    account = None
    if person.contact.account_id is not None:
        account = account_brief(session, person.contact.account_id, {contact_id}, today)
    return BriefingSheet(person.reference, today, None, (person,), account)


def visit_sheet(session: Session, visit_id: uuid.UUID, today: date | None = None) -> BriefingSheet:
    today = today or _today()
    visit = get_visit(session, visit_id)
    people = []
    for cid in visit.contact_ids:
        try:
            people.append(person_brief(session, cid, today))
        except NotFoundError:
            continue  # deleted since the visit was planned: the sheet still prints
    account = None
    if visit.account_id is not None:
        account = account_brief(session, visit.account_id, set(visit.contact_ids), today)
    return BriefingSheet(reference_code("V", visit.id), today, visit, tuple(people), account)


def day_sheets(session: Session, day: date, today: date | None = None) -> list[BriefingSheet]:
    """One sheet per visit of the local day that is not cancelled, in the order of the route."""
    return [visit_sheet(session, v.id, today) for v in visits_on(session, day, include_cancelled=False)]


def day_visit_ids(session: Session, day: date) -> list[uuid.UUID]:
    return [v.id for v in visits_on(session, day, include_cancelled=False)]
