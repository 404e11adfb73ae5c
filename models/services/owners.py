"""What feedback, purchases and thank-yous share: whose row it is (the contact, and the account
it works at, or the account alone), when it happened, and saving only what changed.

Feedback, purchases and thank-yous each belong to a contact or an account; given a contact, the
row is filed under the contact's account too, so the account's page counts it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from models.entities import Account, Contact


def owner_account(
    session: Session,
    contact_id: uuid.UUID | None,
    account_id: uuid.UUID | None,
    errs: dict[str, str],
    what: str,
) -> uuid.UUID | None:
    """The account the row is filed under; explains in ``errs`` a missing or deleted owner."""
    if contact_id is None and account_id is None:
        errs["contact_id"] = f"{what} belongs to a contact or an account"
        return None
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is None or contact.deleted_at is not None:
            errs["contact_id"] = "That contact no longer exists"
            return account_id
        return account_id if account_id is not None else contact.account_id
    account = session.get(Account, account_id)
    if account is None or account.deleted_at is not None:
        errs["account_id"] = "That account no longer exists"
    return account_id


def stored_instant(when: datetime | None) -> datetime:
    """An instant in UTC: a naive time is the rep's own wall clock; none is now."""
    when = when or datetime.now(UTC)
    return (when if when.tzinfo else when.astimezone()).astimezone(UTC)


def apply_changes(row: object, values: dict[str, Any]) -> None:
    """Set the cleaned ``values`` on ``row``; unchanged fields stay out of the sync patch."""
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
