"""imports: this laptop's record of each contact import, so it can be undone as a whole

Revision ID: 0011
Revises: 0010

Local and never synced (like ``meta``): what an import created and filled in are ordinary synced
changes; this table only remembers which ones, for File › Undo an import.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", models.types.UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_contacts", sa.JSON(), nullable=False),
        sa.Column("created_accounts", sa.JSON(), nullable=False),
        sa.Column("merged", sa.JSON(), nullable=False),
        sa.Column("undone_at", models.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("imports")
