"""Check-ins kept due by triggers (local tables ``cadence_defaults`` and ``checkin_due``);
indexes for Today's other sections

Revision ID: 0015
Revises: 0014

Today listed the contacts due for a check-in by computing every contact's effective cadence
(own, else its account tier's default, else its kind's) and due day, then sorting all of them
(64,000 due of 100,000: about half a second). Now each live contact with a cadence has a row in
``checkin_due``: its effective ideal and maximum and ``due_at``, the Julian day of its last
touch plus the ideal (NULL: never contacted). That is a UTC quantity: the rep's time zone is
applied when Today reads it (``models.services.cadence``), so the rows never go stale when the
clock moves to summer time or the laptop to another zone. Today's list is then a range scan of
an index with a LIMIT, and its count an index count.

Triggers keep the rows current in the transaction that changes what they depend on: a
contact's last contact, cadence, kind, account or deletion (typed or pulled: sync fires the same
triggers), an account's tier or deletion, and the rep's defaults. Those live in ``meta`` as JSON
(``cadence.defaults``, still the one source); a trigger on ``meta`` copies them into
``cadence_defaults`` (looked up by key while recomputing) and recomputes every row, in the
transaction that saves them. One view, ``checkin_due_source``, says what a row should be; every
trigger and the bulk loads' rebuild (``models/bulk.py``, which suspends the triggers) use it.

Both tables are local and never synced, like ``meta`` and ``imports``: they are derived from
synced rows that every laptop holds.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# What load_defaults (models/services/cadence.py) accepts, as SQL: a whole number of days from 1
# to 3650, kinds that exist, tiers that are not blank; the last of a repeated key wins. A copy of
# the application's rule as it was: a migration is history.
_KINDS = "('customer', 'partner', 'supplier', 'colleague', 'other')"
_DAYS = (
    "CASE WHEN json_type(e.value, '$.{f}') = 'integer' AND json_extract(e.value, '$.{f}') BETWEEN 1 AND 3650 "
    "THEN json_extract(e.value, '$.{f}') END"
)
_BLANKS = "' ' || char(9, 10, 11, 12, 13)"
REFILL_DEFAULTS = (
    "DELETE FROM cadence_defaults;",
    "INSERT OR REPLACE INTO cadence_defaults (scope, key, ideal, maximum) "
    f"SELECT s.scope, e.key, {_DAYS.format(f='ideal')}, {_DAYS.format(f='max')} "
    "FROM (SELECT 'kind' AS scope, '$.kinds' AS path UNION ALL SELECT 'tier', '$.tiers') AS s, meta AS m, "
    # A damaged value must not make every later write fail: json_each only sees an object.
    "json_each(CASE WHEN json_valid(m.value) THEN CASE WHEN json_type(m.value, s.path) = 'object' "
    "THEN m.value END END, s.path) AS e "
    f"WHERE m.key = 'cadence.defaults' AND e.type = 'object' AND trim(e.key, {_BLANKS}) <> '' "
    f"AND (s.scope = 'tier' OR e.key IN {_KINDS});",
)

SOURCE_VIEW = (
    "CREATE VIEW checkin_due_source AS "
    "SELECT contact_id, account_id, julianday(last_contact_at) + ideal AS due_at, ideal, maximum FROM ("
    "SELECT c.id AS contact_id, c.account_id AS account_id, c.last_contact_at AS last_contact_at, "
    "coalesce(c.cadence_days, t.ideal, k.ideal) AS ideal, "
    "coalesce(c.cadence_max_days, t.maximum, k.maximum) AS maximum "
    "FROM contacts AS c "
    "LEFT JOIN accounts AS a ON a.id = c.account_id AND a.deleted_at IS NULL "
    "LEFT JOIN cadence_defaults AS t ON t.scope = 'tier' AND t.key = a.tier "
    "LEFT JOIN cadence_defaults AS k ON k.scope = 'kind' AND k.key = c.kind "
    "WHERE c.deleted_at IS NULL) "
    "WHERE ideal IS NOT NULL"
)

_COLUMNS = "contact_id, due_at, ideal, maximum"


def _fill(where: str) -> str:
    return f"INSERT INTO checkin_due ({_COLUMNS}) SELECT {_COLUMNS} FROM checkin_due_source WHERE {where};"


def _one(who: str) -> str:
    return f"DELETE FROM checkin_due WHERE contact_id = {who}; {_fill(f'contact_id = {who}')}"


def _of_account(which: str) -> str:
    return (
        f"DELETE FROM checkin_due WHERE contact_id IN (SELECT id FROM contacts WHERE account_id = {which}); "
        + _fill(f"account_id = {which}")
    )


REFILL_ALL = ("DELETE FROM checkin_due;", _fill("1"))
_DEFAULTS_CHANGED = " ".join((*REFILL_DEFAULTS, *REFILL_ALL))
_CONTACT_COLUMNS = ("last_contact_at", "cadence_days", "cadence_max_days", "kind", "account_id", "deleted_at")

TRIGGERS = [
    f"CREATE TRIGGER contacts_checkin_ai AFTER INSERT ON contacts BEGIN {_one('new.id')} END",
    # Only when a value changed: the last-contact triggers rewrite the column on every touch.
    f"CREATE TRIGGER contacts_checkin_au AFTER UPDATE OF {', '.join(_CONTACT_COLUMNS)} ON contacts WHEN "
    + " OR ".join(f"old.{c} IS NOT new.{c}" for c in _CONTACT_COLUMNS)
    + f" BEGIN {_one('new.id')} END",
    "CREATE TRIGGER contacts_checkin_ad AFTER DELETE ON contacts BEGIN "
    "DELETE FROM checkin_due WHERE contact_id = old.id; END",
    # An account pulled after its contacts (sync pages come in server order) brings their tier.
    f"CREATE TRIGGER accounts_checkin_ai AFTER INSERT ON accounts BEGIN {_of_account('new.id')} END",
    "CREATE TRIGGER accounts_checkin_au AFTER UPDATE OF tier, deleted_at ON accounts "
    f"WHEN old.tier IS NOT new.tier OR old.deleted_at IS NOT new.deleted_at BEGIN {_of_account('new.id')} END",
    f"CREATE TRIGGER accounts_checkin_ad AFTER DELETE ON accounts BEGIN {_of_account('old.id')} END",
    "CREATE TRIGGER meta_checkin_ai AFTER INSERT ON meta WHEN new.key = 'cadence.defaults' "
    f"BEGIN {_DEFAULTS_CHANGED} END",
    "CREATE TRIGGER meta_checkin_au AFTER UPDATE ON meta "
    f"WHEN old.key = 'cadence.defaults' OR new.key = 'cadence.defaults' BEGIN {_DEFAULTS_CHANGED} END",
    "CREATE TRIGGER meta_checkin_ad AFTER DELETE ON meta WHEN old.key = 'cadence.defaults' "
    f"BEGIN {_DEFAULTS_CHANGED} END",
]
TRIGGER_NAMES = tuple(sql.split()[2] for sql in TRIGGERS)


def upgrade() -> None:
    op.create_table(
        "cadence_defaults",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("ideal", sa.Integer(), nullable=True),
        sa.Column("maximum", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_table(
        "checkin_due",
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", sa.Float(), nullable=True),
        sa.Column("ideal", sa.Integer(), nullable=False),
        sa.Column("maximum", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("contact_id"),
    )
    # The list is a range of due_at; the id beside it answers the snoozed ones and the join.
    op.create_index("ix_checkin_due_at", "checkin_due", ["due_at", "contact_id"])
    op.execute(SOURCE_VIEW)
    for sql in (*REFILL_DEFAULTS, *REFILL_ALL):
        op.execute(sql)
    for sql in TRIGGERS:
        op.execute(sql)
    _today_indexes()


def _today_indexes() -> None:
    # Today's promises: the open ones due by today per direction in order, both counts, the rep's
    # kept-on-time rate and the customers' kept promises (thank-yous), all without reading
    # the rows (deleted_at is repeated as a column so the index covers the queries).
    op.create_index(
        "ix_commitments_today",
        "commitments",
        ["status", "direction", "due_date", "done_at", "deleted_at"],
        sqlite_where=sa.text("deleted_at IS NULL"),
    )
    # Thank-yous for kept promises are listed by the day they were kept: in that order from an
    # index on the day, rather than sorting every kept promise of the month. Written by hand
    # (an expression), so autogenerate leaves it out (models.migrate.include_object: "_byday").
    op.execute(
        "CREATE INDEX ix_commitments_done_byday ON commitments (status, direction, date(done_at)) "
        "WHERE deleted_at IS NULL"
    )
    # Detractors: the last 90 days' feedback, not all of it.
    op.create_index("ix_feedback_received", "feedback", ["received_at"])
    # Thank-yous and follow-ups look up the contact of every purchase (and kept promise) in
    # their window, thousands: from a narrow index rather than the wide rows, and the window's
    # purchases from the index alone (0007's index on the day, widened).
    op.create_index(
        "ix_contacts_today", "contacts", ["id", "deleted_at", "last_contact_at", "account_id", "name"]
    )
    op.drop_index("ix_purchases_on", "purchases")
    op.create_index("ix_purchases_on", "purchases", ["purchased_on", "deleted_at", "contact_id", "id"])
    # Personal dates: the contacts that have any, not every contact.
    op.create_index(
        "ix_contacts_personal_dates",
        "contacts",
        ["id"],
        sqlite_where=sa.text("personal_dates != '[]' AND deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_commitments_today", "commitments")
    op.execute("DROP INDEX IF EXISTS ix_commitments_done_byday")
    op.drop_index("ix_feedback_received", "feedback")
    op.drop_index("ix_contacts_personal_dates", "contacts")
    op.drop_index("ix_contacts_today", "contacts")
    op.drop_index("ix_purchases_on", "purchases")
    op.create_index("ix_purchases_on", "purchases", ["purchased_on"])
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP VIEW IF EXISTS checkin_due_source")
    op.drop_index("ix_checkin_due_at", "checkin_due")
    op.drop_table("checkin_due")
    op.drop_table("cadence_defaults")
