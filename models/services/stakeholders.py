"""An account's stakeholder map: its people grouped by their part in the relationship, each with
their health and last contact, so the rep sees at a glance who has been neglected.

Customers (and others) with a part in the buying decision (``Contact.stake_role``) are grouped
by it; partners, suppliers and colleagues by their kind, whatever part is recorded for them;
customers with no part said form a group of their own, so they are not forgotten.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.entities import Contact, ContactKind, StakeRole
from models.services.health import Health, contacts_health
from models.services.periods import local_date

# (key, title) in the order the map shows them: the buying decision first.
GROUPS: tuple[tuple[str, str], ...] = (
    (StakeRole.DECISION_MAKER.value, "Decision makers"),
    (StakeRole.INFLUENCER.value, "Influencers"),
    (StakeRole.CHAMPION.value, "Champions"),
    (StakeRole.USER.value, "Users"),
    (StakeRole.GATEKEEPER.value, "Gatekeepers"),
    (ContactKind.CUSTOMER.value, "Customers, no role said"),
    (ContactKind.PARTNER.value, "Partners"),
    (ContactKind.SUPPLIER.value, "Suppliers"),
    (ContactKind.COLLEAGUE.value, "Colleagues"),
    (ContactKind.OTHER.value, "Others, no role said"),
)
BY_KIND = {ContactKind.PARTNER.value, ContactKind.SUPPLIER.value, ContactKind.COLLEAGUE.value}
MAP_LIMIT = 500  # people shown on one account's map (the people list stops there too)


@dataclass(frozen=True, slots=True)
class Stakeholder:
    id: uuid.UUID
    name: str
    role: str  # job title at the account
    kind: str
    stake_role: str
    days_since_contact: int | None  # None: never contacted
    health: Health


@dataclass(frozen=True, slots=True)
class StakeholderGroup:
    key: str
    title: str
    people: tuple[Stakeholder, ...]

    @property
    def neglected(self) -> int:
        return sum(1 for p in self.people if p.health.neglected)


def group_key(kind: str, stake_role: str) -> str:
    if kind in BY_KIND:
        return kind
    if stake_role:
        return stake_role
    return kind if kind in (ContactKind.CUSTOMER.value, ContactKind.OTHER.value) else ContactKind.OTHER.value


def stakeholder_map(
    session: Session, account_id: uuid.UUID, today: date, tz: tzinfo | None = None
) -> list[StakeholderGroup]:
    """The account's groups that have anyone in them, in :data:`GROUPS` order; within a group
    the most neglected first (lowest health), then by name."""
    rows = session.execute(
        select(
            Contact.id, Contact.name, Contact.role, Contact.kind, Contact.stake_role, Contact.last_contact_at
        )
        .where(Contact.account_id == account_id, Contact.deleted_at.is_(None))
        .order_by(Contact.name)
        .limit(MAP_LIMIT)
    ).all()
    health = contacts_health(session, today, [r[0] for r in rows], tz)
    grouped: dict[str, list[Stakeholder]] = {key: [] for key, _title in GROUPS}
    for cid, name, role, kind, stake_role, last in rows:
        if cid not in health:
            continue
        since = None if last is None else max(0, (today - local_date(last, tz)).days)
        grouped[group_key(kind, stake_role)].append(
            Stakeholder(cid, name, role, kind, stake_role, since, health[cid])
        )
    return [
        StakeholderGroup(key, title, tuple(sorted(grouped[key], key=lambda p: (p.health.score or 0, p.name))))
        for key, title in GROUPS
        if grouped[key]
    ]
