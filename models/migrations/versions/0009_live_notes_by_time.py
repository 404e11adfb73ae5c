"""Live notes by time: the relationship health of every contact counts each one's notes in the
last 90 days

Revision ID: 0009
Revises: 0007

A partial index (live notes only) on (occurred_at, contact_id) lets that count read the last 90
days of notes alone; without it SQLite walked all million notes of a large database by contact
(docs/benchmarks.md). A plain CREATE INDEX: no table is rebuilt, so the search triggers stay.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_notes_live_when",
        "notes",
        ["occurred_at", "contact_id"],
        sqlite_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notes_live_when", table_name="notes")
