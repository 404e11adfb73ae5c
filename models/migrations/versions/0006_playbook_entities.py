"""The relationship playbook's rows: thank-yous, snoozed Today items, cadence limits, stakeholder
roles, referrals, and where a commitment came from

Revision ID: 0006
Revises: 0005

New columns are plain ADD COLUMN (a batch rebuild of contacts or commitments would drop their
full-text triggers).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

import models.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _bookkeeping() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", models.types.UTCDateTime(), nullable=True),
        sa.Column("server_version", sa.Integer(), nullable=True),
    ]


def _parents() -> list[SchemaItem]:
    return [
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    ]


def upgrade() -> None:
    op.add_column("contacts", sa.Column("cadence_max_days", sa.Integer(), nullable=True))
    op.add_column(
        "contacts",
        sa.Column("stake_role", sa.String(length=20), nullable=False, server_default=sa.text("''")),
    )
    # Plain ids, no foreign keys: SQLite cannot add one without rebuilding the table.
    op.add_column("contacts", sa.Column("referred_by_id", sa.Uuid(), nullable=True))
    op.add_column("commitments", sa.Column("note_id", sa.Uuid(), nullable=True))
    op.add_column("commitments", sa.Column("feedback_id", sa.Uuid(), nullable=True))
    op.create_table(
        "appreciations",
        sa.Column("given_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("reason_id", sa.Uuid(), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        *_bookkeeping(),
        *_parents(),
    )
    op.create_index("ix_appreciations_contact", "appreciations", ["contact_id", "given_at"])
    op.create_index("ix_appreciations_reason", "appreciations", ["reason_id"])
    op.create_table(
        "snoozes",
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        *_bookkeeping(),
        *_parents(),
    )
    op.create_index("ix_snoozes_item", "snoozes", ["item"])


def downgrade() -> None:
    op.drop_table("snoozes")
    op.drop_table("appreciations")
    for table, column in (
        ("commitments", "feedback_id"),
        ("commitments", "note_id"),
        ("contacts", "referred_by_id"),
        ("contacts", "stake_role"),
        ("contacts", "cadence_max_days"),
    ):
        op.drop_column(table, column)
