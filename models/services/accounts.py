"""Accounts: the companies contacts work at."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session

from models.entities import Account, Contact
from models.rows import AccountRow
from models.services.common import children_of, fts_query, get_live
from models.types import utcnow
from models.validation import check_storable, raise_if, require


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
    for key in ("address", "segment", "tier", "about"):
        values[key] = (getattr(inp, key) or "").strip()
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


def delete_account(session: Session, account_id: uuid.UUID) -> None:
    """Soft delete with the account's own notes and commitments; its contacts stay."""
    account = get_live(session, Account, account_id, "account")
    now = utcnow()
    account.deleted_at = now
    for row in children_of(session, "account_id", account_id):
        row.deleted_at = now


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
