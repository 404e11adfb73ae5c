"""Follow-ups after a sale and thank-yous owed counted from tables kept by triggers (local
``followup_due`` and ``thanks_owed``)

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

The thank-yous owed likewise: ``thanks_owed`` holds every purchase, referral and promise the
customer kept on time that no live thank-you names (``appreciations.reason_id``), whose contact
(the buyer, the referrer, the one who kept it) is live, with the day (and for a referral or a
promise the instant) it happened. Today counts the window's rows from one index. Triggers on
purchases, commitments, contacts (as referred and as owner) and appreciations keep it, from the
view ``thanks_owed_source``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

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
_THANKS_COLUMNS = "row_id, reason, contact_id, day, at"


def _fill(table: str, columns: str, where: str) -> str:
    return f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table}_source WHERE {where};"


def _refill(table: str, columns: str, key: str, which: str) -> str:
    """The rows of ``table`` whose ``key`` is ``which``, as its view says they should be."""
    return f"DELETE FROM {table} WHERE {key} = {which}; {_fill(table, columns, f'{key} = {which}')}"


def _purchase(which: str) -> str:
    return _refill("followup_due", _COLUMNS, "purchase_id", which)


def _contact(which: str) -> str:
    return _refill("followup_due", _COLUMNS, "contact_id", which)


REFILL_ALL = ("DELETE FROM followup_due;", _fill("followup_due", _COLUMNS, "1"))
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

# What thanks_owed should hold: each part as Today's thank-yous read it (a copy of the rule as it
# was: a migration is history).
_UNTHANKED = "NOT EXISTS (SELECT 1 FROM appreciations AS a WHERE a.reason_id = {} AND a.deleted_at IS NULL)"
THANKS_VIEW = (
    "CREATE VIEW thanks_owed_source AS "
    "SELECT p.id AS row_id, 'purchase' AS reason, c.id AS contact_id, p.purchased_on AS day, NULL AS at "
    "FROM purchases AS p JOIN contacts AS c ON c.id = p.contact_id AND c.deleted_at IS NULL "
    f"WHERE p.deleted_at IS NULL AND {_UNTHANKED.format('p.id')} "
    "UNION ALL "
    "SELECT r.id, 'referral', c.id, date(r.created_at), r.created_at "
    "FROM contacts AS r JOIN contacts AS c ON c.id = r.referred_by_id AND c.deleted_at IS NULL "
    f"WHERE r.deleted_at IS NULL AND {_UNTHANKED.format('r.id')} "
    "UNION ALL "
    "SELECT m.id, 'commitment', c.id, date(m.done_at), m.done_at "
    "FROM commitments AS m JOIN contacts AS c ON c.id = m.contact_id AND c.deleted_at IS NULL "
    # Not an index on status and direction (the unary +): a trigger reads one promise or one
    # contact's, by id or contact_id; 0015's index on them read every kept one (350 ms a contact).
    "WHERE m.deleted_at IS NULL AND +m.status = 'done' AND +m.direction = 'they' AND m.done_at IS NOT NULL "
    f"AND (m.due_date IS NULL OR date(m.done_at) <= m.due_date) AND {_UNTHANKED.format('m.id')}"
)


def _thanks_row(which: str) -> str:
    return _refill("thanks_owed", _THANKS_COLUMNS, "row_id", which)


def _thanks_owner(which: str) -> str:
    return _refill("thanks_owed", _THANKS_COLUMNS, "contact_id", which)


THANKS_REFILL_ALL = ("DELETE FROM thanks_owed;", _fill("thanks_owed", _THANKS_COLUMNS, "1"))
_THANKED_ROWS = {
    "purchases": ("purchased_on", "contact_id", "deleted_at"),
    "commitments": ("status", "direction", "done_at", "due_date", "contact_id", "deleted_at"),
}


def _changed(columns: Sequence[str]) -> str:
    return " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)


for _table, _columns in _THANKED_ROWS.items():
    TRIGGERS += [
        f"CREATE TRIGGER {_table}_thanks_ai AFTER INSERT ON {_table} BEGIN {_thanks_row('new.id')} END",
        f"CREATE TRIGGER {_table}_thanks_au AFTER UPDATE OF {', '.join(_columns)} ON {_table} "
        f"WHEN {_changed(_columns)} BEGIN {_thanks_row('new.id')} END",
        f"CREATE TRIGGER {_table}_thanks_ad AFTER DELETE ON {_table} BEGIN "
        "DELETE FROM thanks_owed WHERE row_id = old.id; END",
    ]
_REFERRED = ("referred_by_id", "created_at", "deleted_at")
TRIGGERS += [
    # A contact is a row (as referred: a referral) and an owner (buyer, referrer, promiser); one
    # pulled after the rows that name it brings them.
    f"CREATE TRIGGER contacts_thanks_ai AFTER INSERT ON contacts BEGIN {_thanks_row('new.id')} "
    f"{_thanks_owner('new.id')} END",
    f"CREATE TRIGGER contacts_thanks_au AFTER UPDATE OF {', '.join(_REFERRED)} ON contacts "
    f"WHEN {_changed(_REFERRED)} BEGIN {_thanks_row('new.id')} {_thanks_owner('new.id')} END",
    "CREATE TRIGGER contacts_thanks_ad AFTER DELETE ON contacts BEGIN "
    "DELETE FROM thanks_owed WHERE row_id = old.id OR contact_id = old.id; END",
    # A thank-you logged, moved to another reason, deleted or restored.
    f"CREATE TRIGGER appreciations_thanks_ai AFTER INSERT ON appreciations WHEN new.reason_id IS NOT NULL "
    f"BEGIN {_thanks_row('new.reason_id')} END",
    "CREATE TRIGGER appreciations_thanks_au AFTER UPDATE OF reason_id, deleted_at ON appreciations "
    f"WHEN {_changed(('reason_id', 'deleted_at'))} "
    f"BEGIN {_thanks_row('old.reason_id')} {_thanks_row('new.reason_id')} END",
    "CREATE TRIGGER appreciations_thanks_ad AFTER DELETE ON appreciations WHEN old.reason_id IS NOT NULL "
    f"BEGIN {_thanks_row('old.reason_id')} END",
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
    op.create_table(
        "thanks_owed",
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", models.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("row_id"),
    )
    # A part's count: a range of the day (and the instant, for referrals and promises); the id
    # answers the snoozed ones.
    op.create_index("ix_thanks_owed_day", "thanks_owed", ["reason", "day", "at", "row_id"])
    op.create_index("ix_thanks_owed_contact", "thanks_owed", ["contact_id"])
    op.execute(THANKS_VIEW)
    for sql in THANKS_REFILL_ALL:
        op.execute(sql)
    for sql in TRIGGERS:
        op.execute(sql)


def downgrade() -> None:
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP VIEW IF EXISTS thanks_owed_source")
    op.drop_index("ix_thanks_owed_contact", "thanks_owed")
    op.drop_index("ix_thanks_owed_day", "thanks_owed")
    op.drop_table("thanks_owed")
    op.execute("DROP VIEW IF EXISTS followup_due_source")
    op.drop_index("ix_followup_due_contact", "followup_due")
    op.drop_index("ix_followup_due_bought", "followup_due")
    op.drop_table("followup_due")
