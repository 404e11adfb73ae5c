"""The ORM: typed SQLAlchemy 2.x classes for the local replica.

Every synced row carries a client-made UUID ``id`` (rows can be created offline),
``created_at`` / ``updated_at`` (UTC, for display and audit only: clocks decide nothing),
``deleted_at`` (a tombstone: deletes stay soft until the server has them) and
``server_version`` (the server version this row was last seen at; ``None`` if never synced).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, Date, Float, ForeignKey, Index, Integer, String, Table, Text, Uuid, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from models.shown import shown
from models.types import UTCDateTime, new_id, utcnow


class ContactKind(enum.StrEnum):
    CUSTOMER = "customer"
    PARTNER = "partner"
    SUPPLIER = "supplier"
    COLLEAGUE = "colleague"
    OTHER = "other"


class Channel(enum.StrEnum):
    VISIT = "visit"
    CALL = "call"
    EMAIL = "email"
    MESSAGE = "message"
    OTHER = "other"


class Direction(enum.StrEnum):
    """Who owes whom: ``WE`` promised them, ``THEY`` promised us."""

    WE = "we"
    THEY = "they"


class StakeRole(enum.StrEnum):
    """A customer contact's part in the buying decision (the account's stakeholder map).
    ``NONE`` (the empty text) is "not said"; partners, suppliers and colleagues are grouped by
    their kind instead."""

    NONE = ""
    DECISION_MAKER = "decision_maker"
    INFLUENCER = "influencer"
    CHAMPION = "champion"
    USER = "user"
    GATEKEEPER = "gatekeeper"


class ThanksKind(enum.StrEnum):
    NOTE = "note"
    GIFT = "gift"
    CALL = "call"
    EVENT = "event"


class ThanksReason(enum.StrEnum):
    """What prompted a thank-you: ``reason_id`` then names the purchase, the referred contact or the
    kept commitment."""

    PURCHASE = "purchase"
    REFERRAL = "referral"
    COMMITMENT = "commitment"
    OTHER = "other"


class CommitmentStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


# What a field may hold beyond its column type, declared with the column (``models.values``
# reads it; the services and the sync server check it): a choice field's values, and the shape
# of a JSON field (every JSON field must declare one). ``merge`` names a sync merge policy other
# than the default (``sync.fields``): "set" merges additions and removals from both sides,
# "copy" also keeps the overwritten value as a separate copy of the row.
TEXTS: dict[str, Any] = {"shape": "texts"}


def _choices(options: type[enum.StrEnum]) -> dict[str, Any]:
    return {"choices": tuple(o.value for o in options)}


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        date: Date,
        uuid.UUID: Uuid,
    }


class SyncedMixin:
    """Columns every replicated row has. ``__entity__`` names the row type on the wire."""

    __entity__: ClassVar[str]
    # Columns that belong to the bookkeeping, not to what the rep edits.
    bookkeeping: ClassVar[frozenset[str]] = frozenset(
        # last_contact_at: a contact's cache of its latest note, kept by SQLite triggers
        # (migration 0004); derived locally, never edited or synced.
        {"id", "created_at", "updated_at", "deleted_at", "server_version", "last_contact_at"}
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    server_version: Mapped[int | None] = mapped_column(default=None)


class Account(SyncedMixin, Base):
    __tablename__ = "accounts"
    __entity__ = "account"

    # The account form is built from ``shown`` (in this order); the account's page and its part
    # of the briefing sheet are still laid out by hand, so no place is declared for them.
    name: Mapped[str] = mapped_column(String(200), info=shown("Name", "line", detail=None))
    address: Mapped[str] = mapped_column(
        Text, default="", info=shown("Address", "text", height=48, detail=None)
    )
    segment: Mapped[str] = mapped_column(String(100), default="", info=shown("Segment", "line", detail=None))
    tier: Mapped[str] = mapped_column(String(50), default="", info=shown("Tier", "line", detail=None))
    about: Mapped[str] = mapped_column(Text, default="", info=shown("About", "text", detail=None))

    contacts: Mapped[list[Contact]] = relationship(back_populates="account", lazy="raise")

    __table_args__ = (Index("ix_accounts_name", "name"),)


class Contact(SyncedMixin, Base):
    __tablename__ = "contacts"
    __entity__ = "contact"

    # The order here is the form's order; ``shown`` says the label, the editor and where the
    # contact page and the briefing sheet show the field (``models.shown``).
    name: Mapped[str] = mapped_column(
        String(200), info=shown("Name", "line", detail="heading", sheet="heading")
    )
    kind: Mapped[str] = mapped_column(
        String(20),
        default=ContactKind.CUSTOMER.value,
        info=_choices(ContactKind) | shown("Kind", "choice", detail="heading", sheet="heading"),
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"),
        default=None,
        info=shown("Account", "account", detail="heading", sheet="heading"),
    )
    role: Mapped[str] = mapped_column(
        String(200), default="", info=shown("Role", "line", detail="heading", sheet="heading")
    )
    emails: Mapped[list[str]] = mapped_column(
        JSON,
        default=list,
        info=TEXTS
        | shown(
            "Emails",
            "list",
            hint="Separate several with commas",
            detail="reach",
            sheet="reach",
            sheet_label="Email",
        ),
    )
    phones: Mapped[list[str]] = mapped_column(
        JSON,
        default=list,
        info=TEXTS
        | shown(
            "Phones",
            "list",
            hint="International form, e.g. +44 20 7946 0958",
            detail="reach",
            sheet="reach",
            sheet_label="Phone",
        ),
    )
    address: Mapped[str] = mapped_column(
        Text, default="", info=shown("Address", "text", height=48, sheet="reach")
    )
    birthday: Mapped[date | None] = mapped_column(
        default=None, info=shown("Birthday", "date", placeholder="YYYY-MM-DD", detail="dates", sheet="dates")
    )
    # [{"label": "Work anniversary", "date": "2019-04-01"}, ...]
    personal_dates: Mapped[list[dict[str, str]]] = mapped_column(
        JSON,
        default=list,
        info={"shape": "dates"}
        | shown(
            "Personal dates",
            "dates",
            height=48,
            hint="One per line: Label: YYYY-MM-DD",
            detail="dates",
            sheet="dates",
        ),
    )
    preferences: Mapped[str] = mapped_column(
        Text, default="", info=shown("Preferences", "text", sheet="remember")
    )
    needs: Mapped[str] = mapped_column(
        Text,
        default="",
        info=shown("Needs and pain points", "text", sheet="remember", sheet_label="Needs & pain points"),
    )
    tags: Mapped[list[str]] = mapped_column(
        JSON,
        default=list,
        info=TEXTS | {"merge": "set"} | shown("Tags", "list", hint="Separate with commas", sheet="remember"),
    )
    about: Mapped[str] = mapped_column(Text, default="", info=shown("About", "text"))
    cadence_days: Mapped[int | None] = mapped_column(
        Integer,
        default=None,
        info=shown(
            "Check in every",
            "count",
            hint="Days; empty for the default (Preferences)",
            detail="checkin",
            sheet="glance",
        ),
    )
    # The longest gap before the relationship is at risk ("losing touch": amber past
    # ``cadence_days``, red past this); None: the defaults by kind and tier apply.
    cadence_max_days: Mapped[int | None] = mapped_column(
        Integer,
        default=None,
        info=shown("Losing touch after", "count", hint="Days; empty for the default", detail="checkin"),
    )
    stake_role: Mapped[str] = mapped_column(
        String(20),
        default=StakeRole.NONE.value,
        server_default=text("''"),  # existing contacts, when migration 0006 adds the column
        info=_choices(StakeRole) | shown("Part in decisions", "choice", detail="heading"),
    )
    # Who introduced this contact (a referral is thanked: issue 12's thank-yous owed). Like the
    # other links added with the playbook (migration 0006) it is a plain id, no foreign key:
    # SQLite cannot add one to a table without rebuilding it, and readers treat a missing target
    # as no link.
    # ``refers``: a contact id, so a merge of the referrer re-points it (models.services.merging).
    referred_by_id: Mapped[uuid.UUID | None] = mapped_column(
        default=None,
        info=shown("Referred by", "contact", hint="Who introduced you", detail=None) | {"refers": "contact"},
    )
    # The contact this one was merged into (migration 0012): set, with ``deleted_at``, on the
    # contact merged away, so a late edit from a laptop that still holds it reaches the survivor
    # (the server redirects it; docs/sync.md "Merged contacts"). Synced; no editor of its own.
    merged_into: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    # Kept by triggers on notes; the ORM only reads it.
    last_contact_at: Mapped[datetime | None] = mapped_column(default=None)

    account: Mapped[Account | None] = relationship(back_populates="contacts", lazy="raise")

    __table_args__ = (
        Index("ix_contacts_name", "name"),
        Index("ix_contacts_account", "account_id"),
        # Today's check-ins read these columns of every contact: from this narrow index rather
        # than the wide rows (migration 0007).
        # Not led by deleted_at: the planner would then take it for every "live contacts" query.
        Index(
            "ix_contacts_cadence",
            "last_contact_at",
            "cadence_days",
            "cadence_max_days",
            "kind",
            "account_id",
            "deleted_at",
            "id",
        ),
        Index("ix_contacts_referred", "referred_by_id"),
        # Today's thank-yous and follow-ups: the contact of each purchase in their window, from
        # this narrow index rather than the wide rows (migration 0015).
        Index("ix_contacts_today", "id", "deleted_at", "last_contact_at", "account_id", "name"),
        # Today's personal dates: only the contacts that have any (migration 0015).
        Index(
            "ix_contacts_personal_dates",
            "id",
            sqlite_where=text("personal_dates != '[]' AND deleted_at IS NULL"),
        ),
    )


class Note(SyncedMixin, Base):
    """One interaction: a visit, call, email, message..."""

    __tablename__ = "notes"
    __entity__ = "note"

    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(20), default=Channel.CALL.value, info=_choices(Channel))
    summary: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="", info={"merge": "copy"})
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )

    __table_args__ = (
        Index("ix_notes_contact_when", "contact_id", "occurred_at"),
        Index("ix_notes_account_when", "account_id", "occurred_at"),
        # Live notes by time: every contact's recent touches for their health (migration 0009).
        Index("ix_notes_live_when", "occurred_at", "contact_id", sqlite_where=text("deleted_at IS NULL")),
    )


class Commitment(SyncedMixin, Base):
    __tablename__ = "commitments"
    __entity__ = "commitment"

    direction: Mapped[str] = mapped_column(String(10), default=Direction.WE.value, info=_choices(Direction))
    what: Mapped[str] = mapped_column(String(500))
    due_date: Mapped[date | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(
        String(20), default=CommitmentStatus.OPEN.value, info=_choices(CommitmentStatus)
    )
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    # Where it came from: the note it was made from, or the (detractor's) feedback it answers.
    note_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    feedback_id: Mapped[uuid.UUID | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_commitments_status_due", "status", "due_date"),
        Index("ix_commitments_contact", "contact_id"),
        Index("ix_commitments_account", "account_id"),
        # Today's detractors: "is there a commitment answering this feedback?" per feedback row.
        Index("ix_commitments_feedback", "feedback_id"),
        # Today (migration 0015): open promises due, their counts, the kept-on-time rate and the
        # customers' kept promises, read from the index alone (deleted_at repeated to cover).
        Index(
            "ix_commitments_today",
            "status",
            "direction",
            "due_date",
            "done_at",
            "deleted_at",
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )


class VisitStatus(enum.StrEnum):
    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"


class Visit(SyncedMixin, Base):
    """A planned meeting. ``contact_ids`` is a set (merged as one on sync, like tags)."""

    __tablename__ = "visits"
    __entity__ = "visit"

    starts_at: Mapped[datetime] = mapped_column()
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    location: Mapped[str] = mapped_column(Text, default="")
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    contact_ids: Mapped[list[str]] = mapped_column(
        JSON, default=list, info={"shape": "uuids", "merge": "set", "refers": "contact"}
    )
    purpose: Mapped[str] = mapped_column(String(500), default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(
        String(20), default=VisitStatus.PLANNED.value, info=_choices(VisitStatus)
    )

    __table_args__ = (
        Index("ix_visits_starts_at", "starts_at"),
        Index("ix_visits_account", "account_id"),
    )


class Feedback(SyncedMixin, Base):
    """What a customer told us about us: an NPS score (0-10) and a comment."""

    __tablename__ = "feedback"
    __entity__ = "feedback"

    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    score: Mapped[int | None] = mapped_column(Integer, default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )

    __table_args__ = (
        Index("ix_feedback_contact", "contact_id", "received_at"),
        Index("ix_feedback_account", "account_id", "received_at"),
        # Today's detractors (migrations 0015, 0016): the window's scores and contacts from the index.
        Index("ix_feedback_received", "received_at", "deleted_at", "score", "contact_id", "id"),
    )


class Purchase(SyncedMixin, Base):
    """Something the customer bought (for personalisation and after-sale follow-ups)."""

    __tablename__ = "purchases"
    __entity__ = "purchase"

    purchased_on: Mapped[date] = mapped_column()
    product: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )

    __table_args__ = (
        Index("ix_purchases_contact", "contact_id", "purchased_on"),
        Index("ix_purchases_account", "account_id", "purchased_on"),
        # Today: the last weeks' purchases, answered from the index (widened by migration 0015).
        Index("ix_purchases_on", "purchased_on", "deleted_at", "contact_id", "id"),
    )


class Appreciation(SyncedMixin, Base):
    """A thank-you given to a contact (a note, a gift, a call, an event), and what prompted it."""

    __tablename__ = "appreciations"
    __entity__ = "appreciation"

    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20), default=ThanksKind.NOTE.value, info=_choices(ThanksKind))
    reason: Mapped[str] = mapped_column(
        String(20), default=ThanksReason.OTHER.value, info=_choices(ThanksReason)
    )
    # The purchase, the referred contact or the kept commitment the thank-you is for.
    reason_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    summary: Mapped[str] = mapped_column(String(500), default="")
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )

    __table_args__ = (
        Index("ix_appreciations_contact", "contact_id", "given_at"),
        Index("ix_appreciations_reason", "reason_id"),
    )


class Snooze(SyncedMixin, Base):
    """A Today item put off until a date, or dismissed for good (``until`` None).

    ``item`` names it as "<kind>:<row id>" (e.g. "checkin:<contact id>", "followup7:<purchase id>",
    "thanks:<purchase id>", "detractor:<feedback id>"); commitments are snoozed by moving their
    due date instead. The contact and account put the row in the rep's territory for sync.
    """

    __tablename__ = "snoozes"
    __entity__ = "snooze"

    item: Mapped[str] = mapped_column(String(100))
    until: Mapped[date | None] = mapped_column(default=None)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )

    __table_args__ = (Index("ix_snoozes_item", "item"),)


class OutboxEntry(Base):
    """A local change waiting to be pushed. Written in the same transaction as the change.

    ``patch`` holds the changed fields' new values, ``before`` their values before the change
    (the base for the server's three-way merge), both in wire form (see ``models.types.to_wire``).
    """

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(30))
    row_id: Mapped[uuid.UUID] = mapped_column()
    op: Mapped[str] = mapped_column(String(10))  # "create" | "update" | "delete" | "restore"
    patch: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The mutation id, given when the entry is first pushed (sync; migration 0003).
    mid: Mapped[int | None] = mapped_column(Integer, default=None)

    __table_args__ = (
        Index("ix_outbox_row", "entity", "row_id"),
        Index("ix_outbox_mid", "mid", unique=True),
    )


class Meta(Base):
    """Small key/value settings that belong to this database file (sync cursor, client id...)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class ImportRecord(Base):
    """One import of contacts from a file, kept so it can be undone as a whole (migration 0011).

    This laptop's own record, never synced: the rows it created and the fields it filled in are
    ordinary synced changes, and so is their undo. ``merged`` maps a contact id to what the
    import did to it: ``{"set": {field: [before, after]}, "added": {field: [items]}}`` (wire form).
    """

    __tablename__ = "imports"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(300))  # the file's name, for the rep
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_contacts: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_accounts: Mapped[list[str]] = mapped_column(JSON, default=list)
    merged: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(default=None)


# The sync's records for the rep (migration 0003), written and read by ``sync`` with Core
# statements: no class of their own, but declared here so the metadata is the whole schema.
# The conflicts the server reported, as it sent them (``at`` is the server's text timestamp).
sync_conflicts = Table(
    "sync_conflicts",
    Base.metadata,
    Column("id", Uuid, primary_key=True),
    Column("entity", String(30), nullable=False),
    Column("row_id", Uuid, nullable=False),
    Column("field", String(100), nullable=True),
    Column("kind", String(20), nullable=False),
    Column("kept", JSON, nullable=True),
    Column("lost", JSON, nullable=True),
    Column("user_name", String(200), nullable=False),
    Column("at", String(40), nullable=False),
    Column("server_version", Integer, nullable=False),
    Column("dismissed_at", UTCDateTime, nullable=True),
    Index("ix_sync_conflicts_row", "entity", "row_id"),
)
# This laptop's changes the server refused, kept with the change so nothing typed is lost.
sync_rejections = Table(
    "sync_rejections",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("mid", Integer, nullable=False),
    Column("entity", String(30), nullable=False),
    Column("row_id", Uuid, nullable=False),
    Column("op", String(10), nullable=False),
    Column("patch", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("dismissed_at", UTCDateTime, nullable=True),
)

# Check-ins kept due (migration 0015): local, never synced, derived from synced rows by triggers.
# The rep's cadence defaults as rows (copied from ``meta`` by a trigger when they are saved).
cadence_defaults = Table(
    "cadence_defaults",
    Base.metadata,
    Column("scope", String(10), primary_key=True),  # "kind" or "tier"
    Column("key", String(100), primary_key=True),
    Column("ideal", Integer, nullable=True),
    Column("maximum", Integer, nullable=True),
)
# Each live contact with a cadence: its effective ideal and maximum, and ``due_at``, the Julian
# day of its last touch (UTC) plus the ideal; NULL when never contacted.
checkin_due = Table(
    "checkin_due",
    Base.metadata,
    # Kept by triggers from the contact's own row (migration 0015): a merge never moves it, the
    # merged-away contact's row goes when it is deleted (models.services.merging reads this).
    Column("contact_id", Uuid, primary_key=True, info={"derived": True}),
    Column("due_at", Float, nullable=True),
    Column("ideal", Integer, nullable=False),
    Column("maximum", Integer, nullable=True),
    Index("ix_checkin_due_at", "due_at", "contact_id"),
)

# Follow-ups after a sale (migration 0017): local, never synced, kept by triggers. Each live
# purchase of a live contact: the day bought and ``touched``, the contact's last contact as
# SQLite's ``datetime()`` text ('' when never contacted).
followup_due = Table(
    "followup_due",
    Base.metadata,
    Column("purchase_id", Uuid, primary_key=True),
    # Kept from the purchase's own row: a merge moves the purchase, the triggers this row.
    Column("contact_id", Uuid, nullable=False, info={"derived": True}),
    Column("bought", Date, nullable=False),
    Column("touched", String(19), nullable=False),
    Index("ix_followup_due_bought", "bought", "touched", "purchase_id"),
    Index("ix_followup_due_contact", "contact_id"),
)
# Thank-yous owed (migration 0017): local, never synced, kept by triggers. Each purchase,
# referral (the referred contact's id) and promise the customer kept on time that no live
# thank-you names, whose contact is live: the day it happened and, but for a purchase (a day),
# the instant.
thanks_owed = Table(
    "thanks_owed",
    Base.metadata,
    Column("row_id", Uuid, primary_key=True),
    Column("reason", String(20), nullable=False),  # ThanksReason: purchase, referral, commitment
    # Kept from the rows themselves: a merge moves them, the triggers these.
    Column("contact_id", Uuid, nullable=False, info={"derived": True}),
    Column("day", Date, nullable=False),
    Column("at", UTCDateTime, nullable=True),
    Index("ix_thanks_owed_day", "reason", "day", "at", "row_id"),
    Index("ix_thanks_owed_contact", "contact_id"),
)


# Parents before children: the order rows are created in (bootstrap, bulk copies).
SYNCED_CLASSES: tuple[type[SyncedMixin], ...] = (
    Account,
    Contact,
    Note,
    Commitment,
    Visit,
    Feedback,
    Purchase,
    Appreciation,
    Snooze,
)


def synced_class(entity: str) -> type[SyncedMixin]:
    for cls in SYNCED_CLASSES:
        if cls.__entity__ == entity:
            return cls
    raise KeyError(entity)
