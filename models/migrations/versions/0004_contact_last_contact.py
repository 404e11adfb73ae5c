"""contacts.last_contact_at kept by triggers on notes; partial indexes for the trash

Revision ID: 0004
Revises: 0003

"When did we last speak?" drives the contact list, the check-in cadence and Today. Computing it
as max(notes.occurred_at) per contact cost 4 s on a million notes for the overdue list; a column
that SQLite keeps current in the same transaction as every note change costs one indexed lookup
per change. It is local and derived, so it never syncs (see ``SyncedMixin.bookkeeping``), and
pulled notes update it through the same triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_LATEST = "(SELECT max(occurred_at) FROM notes WHERE notes.contact_id = {who} AND notes.deleted_at IS NULL)"

TRIGGERS = [
    # Insert: a newer note can only move the date forward, so skip the lookup.
    "CREATE TRIGGER notes_last_contact_ai AFTER INSERT ON notes "
    "WHEN new.contact_id IS NOT NULL AND new.deleted_at IS NULL BEGIN "
    "UPDATE contacts SET last_contact_at = new.occurred_at WHERE id = new.contact_id "
    "AND (last_contact_at IS NULL OR last_contact_at < new.occurred_at); END",
    # Update (moved, re-dated, deleted, restored): recompute for the old and the new contact.
    "CREATE TRIGGER notes_last_contact_au AFTER UPDATE OF occurred_at, contact_id, deleted_at ON notes BEGIN "
    f"UPDATE contacts SET last_contact_at = {_LATEST.format(who='old.contact_id')} WHERE id = old.contact_id; "
    f"UPDATE contacts SET last_contact_at = {_LATEST.format(who='new.contact_id')} WHERE id = new.contact_id; "
    "END",
    "CREATE TRIGGER notes_last_contact_ad AFTER DELETE ON notes BEGIN "
    f"UPDATE contacts SET last_contact_at = {_LATEST.format(who='old.contact_id')} WHERE id = old.contact_id; "
    "END",
    # Sync applies pulled pages in server order with foreign keys off, so a contact can arrive
    # after its notes: it then starts from the notes already here.
    "CREATE TRIGGER contacts_last_contact_ai AFTER INSERT ON contacts BEGIN "
    f"UPDATE contacts SET last_contact_at = {_LATEST.format(who='new.id')} WHERE id = new.id; "
    "END",
]


# The trash lists deleted rows newest first; partial indexes hold only those rows, so listing
# it no longer scans a million live notes (290 ms on the benchmark database).
TRASH_TABLES = ("accounts", "contacts", "notes", "commitments")


def upgrade() -> None:
    # A plain ALTER TABLE: batch mode could rebuild the table and lose its full-text triggers.
    op.add_column("contacts", sa.Column("last_contact_at", models.types.UTCDateTime(), nullable=True))
    op.execute(f"UPDATE contacts SET last_contact_at = {_LATEST.format(who='contacts.id')}")
    for sql in TRIGGERS:
        op.execute(sql)
    for table in TRASH_TABLES:
        op.execute(f"CREATE INDEX ix_{table}_trash ON {table} (deleted_at) WHERE deleted_at IS NOT NULL")


def downgrade() -> None:
    for table in TRASH_TABLES:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_trash")
    for name in (
        "notes_last_contact_ai",
        "notes_last_contact_au",
        "notes_last_contact_ad",
        "contacts_last_contact_ai",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_column("contacts", "last_contact_at")
