"""Follow-ups after a sale counted from a table kept by triggers (local ``followup_due``)

Revision ID: 0017
Revises: 0016

Today counted the follow-ups owed by reading every live purchase of each follow-up window
(about 4,500 a part on the 100,000-contact database) with its contact's row, for whether the
contact was touched since the follow-up day. Now each live purchase of a live contact has a row
in ``followup_due``: the day bought and ``touched``, the contact's last contact as SQLite's
``datetime()`` text ('' when never contacted, so it sorts before every instant). The count of a
part is then, for each day of its window, a range of one index: ``touched`` before the UTC
instant where that day's follow-up day starts. The time zone and the follow-up days (the rep
sets them) are applied when reading, as before, so nothing here goes stale with them.

Triggers keep the rows in the transaction that changes a purchase (its day, contact or
deletion) or a contact (its last contact or deletion; an insert brings the purchases pulled
before it). One view, ``followup_due_source``, says what a row should be; the triggers and the
bulk loads' rebuild (``models/bulk.py``) use it. Local and never synced, like ``checkin_due``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

SOURCE_VIEW = (
    "CREATE VIEW followup_due_source AS "
    "SELECT p.id AS purchase_id, p.contact_id AS contact_id, p.purchased_on AS bought, "
    "coalesce(datetime(c.last_contact_at), '') AS touched "
    "FROM purchases AS p JOIN contacts AS c ON c.id = p.contact_id AND c.deleted_at IS NULL "
    "WHERE p.deleted_at IS NULL"
)

_COLUMNS = "purchase_id, contact_id, bought, touched"


def _fill(where: str) -> str:
    return f"INSERT INTO followup_due ({_COLUMNS}) SELECT {_COLUMNS} FROM followup_due_source WHERE {where};"


def _purchase(which: str) -> str:
    return f"DELETE FROM followup_due WHERE purchase_id = {which}; {_fill(f'purchase_id = {which}')}"


def _contact(which: str) -> str:
    return f"DELETE FROM followup_due WHERE contact_id = {which}; {_fill(f'contact_id = {which}')}"


REFILL_ALL = ("DELETE FROM followup_due;", _fill("1"))
_PURCHASE_COLUMNS = ("purchased_on", "contact_id", "deleted_at")
_CONTACT_COLUMNS = ("last_contact_at", "deleted_at")

TRIGGERS = [
    f"CREATE TRIGGER purchases_followup_ai AFTER INSERT ON purchases BEGIN {_purchase('new.id')} END",
    f"CREATE TRIGGER purchases_followup_au AFTER UPDATE OF {', '.join(_PURCHASE_COLUMNS)} ON purchases WHEN "
    + " OR ".join(f"old.{c} IS NOT new.{c}" for c in _PURCHASE_COLUMNS)
    + f" BEGIN {_purchase('new.id')} END",
    "CREATE TRIGGER purchases_followup_ad AFTER DELETE ON purchases BEGIN "
    "DELETE FROM followup_due WHERE purchase_id = old.id; END",
    # A contact pulled after its purchases (sync pages come in server order) brings them.
    f"CREATE TRIGGER contacts_followup_ai AFTER INSERT ON contacts BEGIN {_contact('new.id')} END",
    # Only when a value changed: the last-contact triggers rewrite the column on every touch.
    f"CREATE TRIGGER contacts_followup_au AFTER UPDATE OF {', '.join(_CONTACT_COLUMNS)} ON contacts WHEN "
    + " OR ".join(f"old.{c} IS NOT new.{c}" for c in _CONTACT_COLUMNS)
    + f" BEGIN {_contact('new.id')} END",
    "CREATE TRIGGER contacts_followup_ad AFTER DELETE ON contacts BEGIN "
    "DELETE FROM followup_due WHERE contact_id = old.id; END",
]
TRIGGER_NAMES = tuple(sql.split()[2] for sql in TRIGGERS)


def upgrade() -> None:
    op.create_table(
        "followup_due",
        sa.Column("purchase_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("bought", sa.Date(), nullable=False),
        sa.Column("touched", sa.String(length=19), nullable=False),
        sa.PrimaryKeyConstraint("purchase_id"),
    )
    # A part's count: per day bought, a range of touched; the id answers the snoozed ones.
    op.create_index("ix_followup_due_bought", "followup_due", ["bought", "touched", "purchase_id"])
    op.create_index("ix_followup_due_contact", "followup_due", ["contact_id"])
    op.execute(SOURCE_VIEW)
    for sql in REFILL_ALL:
        op.execute(sql)
    for sql in TRIGGERS:
        op.execute(sql)


def downgrade() -> None:
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP VIEW IF EXISTS followup_due_source")
    op.drop_index("ix_followup_due_contact", "followup_due")
    op.drop_index("ix_followup_due_bought", "followup_due")
    op.drop_table("followup_due")
