"""Accounts: the companies contacts work at."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session

from models.entities import Account, Commitment, Contact, Note
from models.rows import AccountRow
from models.services.common import children_of, fts_query, get_live
from models.services.trash import restore
from models.types import utcnow
from models.validation import check_storable, clean_described, raise_if, require


@dataclass
class AccountInput:
    name: str
    address: str = ""
    segment: str = ""
    tier: str = ""
    about: str = ""


def clean_account(inp: AccountInput) -> dict[str, Any]:
    errs: dict[str, str] = {}
    values = {"name": require(inp.name, "name", errs, "A name")}
    clean_described(Account, inp, values, errs)
    check_storable(Account, values, errs)
    raise_if(errs)
    return values


def create_account(session: Session, inp: AccountInput) -> uuid.UUID:
    account = Account(**clean_account(inp))
    session.add(account)
    session.flush()
    return account.id


def update_account(session: Session, account_id: uuid.UUID, inp: AccountInput) -> None:
    account = get_live(session, Account, account_id, "account")
    for key, value in clean_account(inp).items():
        if getattr(account, key) != value:
            setattr(account, key, value)


@dataclass(frozen=True)
class AccountImpact:
    """What deleting an account touches, for the question the rep is asked first."""

    name: str
    people: int
    people_notes: int  # the history of its people (theirs: it never goes with the account alone)
    people_commitments: int
    own_notes: int  # filed under the account and no one in particular
    own_commitments: int


def _people(session: Session, account_id: uuid.UUID) -> list[Contact]:
    return list(
        session.scalars(select(Contact).where(Contact.account_id == account_id, Contact.deleted_at.is_(None)))
    )


def account_impact(session: Session, account_id: uuid.UUID) -> AccountImpact:
    account = get_live(session, Account, account_id, "account")
    people = select(Contact.id).where(Contact.account_id == account_id, Contact.deleted_at.is_(None))
    counts: list[int] = []
    for cls in (Note, Commitment):
        live = cls.deleted_at.is_(None)
        counts.append(int(session.scalar(select(func.count()).where(live, cls.contact_id.in_(people))) or 0))
        own = (cls.account_id == account_id) & cls.contact_id.is_(None)
        counts.append(int(session.scalar(select(func.count()).where(live, own)) or 0))
    n_people = int(session.scalar(select(func.count()).select_from(people.subquery())) or 0)
    return AccountImpact(account.name, n_people, counts[0], counts[2], counts[1], counts[3])


@dataclass(frozen=True)
class AccountDeletion:
    """What :func:`delete_account` did, so that undo puts back exactly that."""

    account_id: uuid.UUID
    with_people: bool
    # People kept and detached from the account (empty when they were deleted with it).
    detached: tuple[uuid.UUID, ...]
    # Notes and commitments of people that were filed under the account and now follow their
    # person instead: (entity, id, account before, account after).
    refiled: tuple[tuple[str, uuid.UUID, uuid.UUID | None, uuid.UUID | None], ...]
    people: int
    own_rows: int  # the account's own notes and commitments, in the Trash with it


def delete_account(session: Session, account_id: uuid.UUID, *, with_people: bool = False) -> AccountDeletion:
    """Soft delete an account with its own notes and commitments.

    Its people are either kept, with all their history, no longer at any account
    (``with_people=False``), or go to the Trash with it, history included. A person's notes and
    commitments follow the person, never the account alone: a contact is never left without
    their own history.
    """
    account = get_live(session, Account, account_id, "account")
    now = utcnow()
    account.deleted_at = now
    people = _people(session, account_id)
    for person in people:
        if with_people:
            person.deleted_at = now
            for row in children_of(session, "contact_id", person.id):
                row.deleted_at = now
        else:
            person.account_id = None
    refiled: list[tuple[str, uuid.UUID, uuid.UUID | None, uuid.UUID | None]] = []
    own = 0
    for row in children_of(session, "account_id", account_id):
        owner = session.get(Contact, row.contact_id) if row.contact_id is not None else None
        if owner is None or owner.deleted_at is not None:
            row.deleted_at = now
            own += 1
        else:  # someone's history (a person kept, or one who moved away): it stays theirs
            refiled.append((row.__entity__, row.id, row.account_id, owner.account_id))
            row.account_id = owner.account_id
    return AccountDeletion(
        account_id,
        with_people,
        tuple(p.id for p in people) if not with_people else (),
        tuple(refiled),
        len(people),
        own,
    )


def undo_account_delete(session: Session, deletion: AccountDeletion) -> None:
    """Put back what :func:`delete_account` did: the account, what went to the Trash with it,
    and the people and history it detached (those the rep has not changed since)."""
    restore(session, "account", deletion.account_id)
    for person_id in deletion.detached:
        person = session.get(Contact, person_id)
        if person is not None and person.deleted_at is None and person.account_id is None:
            person.account_id = deletion.account_id
    for entity, row_id, before, after in deletion.refiled:
        row: Note | Commitment | None = (
            session.get(Note, row_id) if entity == Note.__entity__ else session.get(Commitment, row_id)
        )
        if row is not None and row.deleted_at is None and row.account_id == after:
            row.account_id = before


def _count_contacts() -> Any:
    return (
        select(func.count())
        .where(Contact.account_id == Account.id, Contact.deleted_at.is_(None))
        .correlate(Account)
        .scalar_subquery()
    )


def list_accounts(
    session: Session, search: str = "", *, limit: int | None = None, offset: int = 0
) -> list[AccountRow]:
    stmt = select(
        Account.id,
        Account.name,
        Account.address,
        Account.segment,
        Account.tier,
        Account.about,
        _count_contacts(),
    ).where(Account.deleted_at.is_(None))
    query = fts_query(search)
    if query:
        stmt = stmt.where(
            literal_column("accounts.rowid").in_(
                text("SELECT rowid FROM accounts_fts WHERE accounts_fts MATCH :q").bindparams(q=query)
            )
        )
    stmt = stmt.order_by(Account.name.collate("NOCASE"), Account.id).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [AccountRow(*r) for r in session.execute(stmt)]


def get_account(session: Session, account_id: uuid.UUID) -> AccountRow:
    a = get_live(session, Account, account_id, "account")
    count = session.scalar(
        select(func.count()).where(Contact.account_id == a.id, Contact.deleted_at.is_(None))
    )
    return AccountRow(a.id, a.name, a.address, a.segment, a.tier, a.about, int(count or 0))


def account_choices(session: Session) -> list[tuple[uuid.UUID, str]]:
    """(id, name) of every live account, for pickers."""
    stmt = select(Account.id, Account.name).where(Account.deleted_at.is_(None))
    return [(r[0], r[1]) for r in session.execute(stmt.order_by(Account.name.collate("NOCASE")))]
