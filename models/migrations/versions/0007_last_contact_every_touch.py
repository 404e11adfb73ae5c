"""contacts.last_contact_at from every logged touch: notes, completed visits, thank-yous, feedback;
indexes for Today

Revision ID: 0007
Revises: 0006

Migration 0004 kept "last contact" from notes alone. Issue 12 counts every touch the rep logs: a
note of any channel, a visit marked done (each person in its ``contact_ids``), a thank-you
(appreciations) and feedback received. The same pattern: an insert can only move the date
forward (no lookup), any other change recomputes the contacts it concerns from all four sources.
Pulled rows fire the same triggers, so a touch logged on another laptop counts here too.

A visit names its people in a JSON list of hyphenated UUIDs while contacts store their id as 32
hex digits (SQLAlchemy's Uuid on SQLite), hence ``replace(value, '-', '')``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# The latest live touch of contact {who}. A copy, not an import: a migration is history, and
# models.bulk keeps the application's own (set-based) version.
_LATEST = (
    "(SELECT max(at) FROM ("
    "SELECT max(occurred_at) AS at FROM notes WHERE contact_id = {who} AND deleted_at IS NULL "
    "UNION ALL SELECT max(given_at) FROM appreciations WHERE contact_id = {who} AND deleted_at IS NULL "
    "UNION ALL SELECT max(received_at) FROM feedback WHERE contact_id = {who} AND deleted_at IS NULL "
    "UNION ALL SELECT max(v.starts_at) FROM visits AS v, json_each(v.contact_ids) AS j "
    "WHERE replace(j.value, '-', '') = {who} AND v.status = 'done' AND v.deleted_at IS NULL))"
)


def _recompute(who: str) -> str:
    return f"UPDATE contacts SET last_contact_at = {_LATEST.format(who=who)} WHERE id = {who};"


def _bump(table: str, when: str) -> str:
    # A new live row can only move the date forward.
    return (
        f"CREATE TRIGGER {table}_last_contact_ai AFTER INSERT ON {table} "
        "WHEN new.contact_id IS NOT NULL AND new.deleted_at IS NULL BEGIN "
        f"UPDATE contacts SET last_contact_at = new.{when} WHERE id = new.contact_id "
        f"AND (last_contact_at IS NULL OR last_contact_at < new.{when}); END"
    )


def _rowed(table: str, when: str) -> list[str]:
    """Triggers for a table whose row names one contact (notes, appreciations, feedback)."""
    return [
        _bump(table, when),
        f"CREATE TRIGGER {table}_last_contact_au AFTER UPDATE OF {when}, contact_id, deleted_at "
        f"ON {table} BEGIN {_recompute('old.contact_id')} {_recompute('new.contact_id')} END",
        f"CREATE TRIGGER {table}_last_contact_ad AFTER DELETE ON {table} BEGIN {_recompute('old.contact_id')} END",
    ]


def _each_person(side: str) -> str:
    return f"(SELECT replace(value, '-', '') FROM json_each({side}.contact_ids))"


_VISIT_RECOMPUTE = "UPDATE contacts SET last_contact_at = {latest} WHERE id IN {people};"

TRIGGERS = [
    *_rowed("notes", "occurred_at"),
    *_rowed("appreciations", "given_at"),
    *_rowed("feedback", "received_at"),
    # A visit counts once it is done; inserted done (a pulled visit) moves the date forward.
    "CREATE TRIGGER visits_last_contact_ai AFTER INSERT ON visits "
    "WHEN new.status = 'done' AND new.deleted_at IS NULL BEGIN "
    f"UPDATE contacts SET last_contact_at = new.starts_at WHERE id IN {_each_person('new')} "
    "AND (last_contact_at IS NULL OR last_contact_at < new.starts_at); END",
    "CREATE TRIGGER visits_last_contact_au AFTER UPDATE OF status, starts_at, contact_ids, deleted_at "
    "ON visits BEGIN "
    + _VISIT_RECOMPUTE.format(latest=_LATEST.format(who="contacts.id"), people=_each_person("old"))
    + " "
    + _VISIT_RECOMPUTE.format(latest=_LATEST.format(who="contacts.id"), people=_each_person("new"))
    + " END",
    "CREATE TRIGGER visits_last_contact_ad AFTER DELETE ON visits BEGIN "
    + _VISIT_RECOMPUTE.format(latest=_LATEST.format(who="contacts.id"), people=_each_person("old"))
    + " END",
    # Sync may bring a contact after its touches (pages in server order, foreign keys off).
    f"CREATE TRIGGER contacts_last_contact_ai AFTER INSERT ON contacts BEGIN {_recompute('new.id')} END",
]

# Not led by deleted_at, or the planner takes it for every "live contacts" query.
CADENCE_COLUMNS = (
    "last_contact_at",
    "cadence_days",
    "cadence_max_days",
    "kind",
    "account_id",
    "deleted_at",
    "id",
)

# Migration 0004's, replaced (they looked at notes only).
OLD_TRIGGERS = (
    "notes_last_contact_ai",
    "notes_last_contact_au",
    "notes_last_contact_ad",
    "contacts_last_contact_ai",
)
NEW_TRIGGERS = tuple(sql.split()[2] for sql in TRIGGERS)

# The touches by contact, for the backfill: set-based, so a million notes take one pass and the
# visits one scan (not a scan per contact).
BACKFILL = [
    "UPDATE contacts SET last_contact_at = (SELECT max(occurred_at) FROM notes "
    "WHERE notes.contact_id = contacts.id AND notes.deleted_at IS NULL)",
    *(
        f"UPDATE contacts SET last_contact_at = t.at FROM (SELECT contact_id AS cid, max({when}) AS at "
        f"FROM {table} WHERE deleted_at IS NULL AND contact_id IS NOT NULL GROUP BY contact_id) AS t "
        "WHERE contacts.id = t.cid AND (contacts.last_contact_at IS NULL OR contacts.last_contact_at < t.at)"
        for table, when in (("appreciations", "given_at"), ("feedback", "received_at"))
    ),
    "UPDATE contacts SET last_contact_at = t.at FROM (SELECT replace(j.value, '-', '') AS cid, "
    "max(v.starts_at) AS at FROM visits AS v, json_each(v.contact_ids) AS j "
    "WHERE v.status = 'done' AND v.deleted_at IS NULL GROUP BY 1) AS t "
    "WHERE contacts.id = t.cid AND (contacts.last_contact_at IS NULL OR contacts.last_contact_at < t.at)",
]


def upgrade() -> None:
    # Today asks, per detractor, whether a commitment answers it: without an index that is a
    # scan of every commitment per feedback row.
    op.create_index("ix_commitments_feedback", "commitments", ["feedback_id"])
    # Today reads a few columns of every contact (check-ins): a narrow covering index instead of
    # the wide rows; referrals and the last weeks' purchases by range.
    op.create_index("ix_contacts_cadence", "contacts", list(CADENCE_COLUMNS))
    op.create_index("ix_contacts_referred", "contacts", ["referred_by_id"])
    op.create_index("ix_purchases_on", "purchases", ["purchased_on"])
    for name in OLD_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for sql in BACKFILL:
        op.execute(sql)
    for sql in TRIGGERS:
        op.execute(sql)


def downgrade() -> None:
    op.drop_index("ix_commitments_feedback", "commitments")
    op.drop_index("ix_contacts_cadence", "contacts")
    op.drop_index("ix_contacts_referred", "contacts")
    op.drop_index("ix_purchases_on", "purchases")
    for name in NEW_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    # Back to notes alone, as 0004 had it.
    notes_only = (
        "(SELECT max(occurred_at) FROM notes WHERE notes.contact_id = {who} AND notes.deleted_at IS NULL)"
    )
    op.execute(f"UPDATE contacts SET last_contact_at = {notes_only.format(who='contacts.id')}")
    op.execute(
        "CREATE TRIGGER notes_last_contact_ai AFTER INSERT ON notes "
        "WHEN new.contact_id IS NOT NULL AND new.deleted_at IS NULL BEGIN "
        "UPDATE contacts SET last_contact_at = new.occurred_at WHERE id = new.contact_id "
        "AND (last_contact_at IS NULL OR last_contact_at < new.occurred_at); END"
    )
    op.execute(
        "CREATE TRIGGER notes_last_contact_au AFTER UPDATE OF occurred_at, contact_id, deleted_at ON notes BEGIN "
        f"UPDATE contacts SET last_contact_at = {notes_only.format(who='old.contact_id')} WHERE id = old.contact_id; "
        f"UPDATE contacts SET last_contact_at = {notes_only.format(who='new.contact_id')} WHERE id = new.contact_id; "
        "END"
    )
    op.execute(
        "CREATE TRIGGER notes_last_contact_ad AFTER DELETE ON notes BEGIN "
        f"UPDATE contacts SET last_contact_at = {notes_only.format(who='old.contact_id')} WHERE id = old.contact_id; "
        "END"
    )
    op.execute(
        "CREATE TRIGGER contacts_last_contact_ai AFTER INSERT ON contacts BEGIN "
        f"UPDATE contacts SET last_contact_at = {notes_only.format(who='new.id')} WHERE id = new.id; "
        "END"
    )
