"""Plain, frozen rows that services return and item models hold (never ORM objects)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta


@dataclass(frozen=True, slots=True)
class ContactRow:
    id: uuid.UUID
    name: str
    kind: str
    account_id: uuid.UUID | None
    account_name: str
    role: str
    email: str
    phone: str
    tags: tuple[str, ...]
    cadence_days: int | None
    last_contact_at: datetime | None

    def checkin_due(self, today: date) -> date | None:
        """The day the next check-in is due (``None`` without a cadence)."""
        if self.cadence_days is None:
            return None
        if self.last_contact_at is None:
            return today
        return self.last_contact_at.date() + timedelta(days=self.cadence_days)

    def checkin_overdue(self, today: date) -> bool:
        due = self.checkin_due(today)
        return due is not None and due < today


@dataclass(frozen=True, slots=True)
class ContactDetail:
    id: uuid.UUID
    name: str
    kind: str
    account_id: uuid.UUID | None
    account_name: str
    role: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    address: str
    birthday: date | None
    personal_dates: tuple[tuple[str, str], ...]
    preferences: str
    needs: str
    tags: tuple[str, ...]
    about: str
    cadence_days: int | None
    cadence_max_days: int | None
    stake_role: str
    last_contact_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: uuid.UUID
    name: str
    address: str
    segment: str
    tier: str
    about: str
    contact_count: int


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: uuid.UUID
    occurred_at: datetime
    channel: str
    summary: str
    body: str
    contact_id: uuid.UUID | None
    contact_name: str
    account_id: uuid.UUID | None
    account_name: str


@dataclass(frozen=True, slots=True)
class CommitmentRow:
    id: uuid.UUID
    direction: str
    what: str
    due_date: date | None
    status: str
    done_at: datetime | None
    contact_id: uuid.UUID | None
    contact_name: str
    account_id: uuid.UUID | None
    account_name: str

    def is_overdue(self, today: date) -> bool:
        return self.status == "open" and self.due_date is not None and self.due_date < today


@dataclass(frozen=True, slots=True)
class TrashRow:
    entity: str
    id: uuid.UUID
    title: str
    deleted_at: datetime


@dataclass(frozen=True, slots=True)
class KeptRate:
    """Commitments we made that are done: how many on or before their due date."""

    kept_on_time: int
    done_late: int
    open_overdue: int

    @property
    def total(self) -> int:
        return self.kept_on_time + self.done_late + self.open_overdue

    @property
    def rate(self) -> float | None:
        return self.kept_on_time / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class TodaySummary:
    overdue_checkins: list[ContactRow] = field(default_factory=list)
    overdue_commitments: list[CommitmentRow] = field(default_factory=list)
    due_this_week: list[CommitmentRow] = field(default_factory=list)
    kept: KeptRate = KeptRate(0, 0, 0)
    # True counts: the lists above stop at a few hundred rows.
    overdue_checkins_count: int = 0
    overdue_commitments_count: int = 0
    due_this_week_count: int = 0


@dataclass(frozen=True, slots=True)
class VisitRow:
    """A planned (or done, or cancelled) visit; ``starts_at`` is aware UTC."""

    id: uuid.UUID
    starts_at: datetime
    duration_minutes: int
    location: str
    account_id: uuid.UUID | None
    account_name: str
    contact_ids: tuple[uuid.UUID, ...]
    contact_names: tuple[str, ...]
    purpose: str
    agenda: str
    status: str

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    id: uuid.UUID
    received_at: datetime
    score: int | None
    comment: str


@dataclass(frozen=True, slots=True)
class PurchaseRow:
    id: uuid.UUID
    purchased_on: date
    product: str
    quantity: int
    amount_cents: int | None
    currency: str
