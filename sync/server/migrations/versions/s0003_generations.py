"""generations (which runs of the server handed out which versions) and given_back (restores)

Revision ID: s0003
Revises: s0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0003"
down_revision: str | None = "s0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # s0001 creates tables from the current definitions, so a fresh database already has it.
    existing = sa.inspect(op.get_bind()).get_table_names()
    if "given_back" not in existing:
        op.create_table(
            "given_back",
            sa.Column("entity", sa.String(30), primary_key=True),
            sa.Column("id", sa.String(36), primary_key=True),
            sa.Column("old_version", sa.BigInteger(), nullable=False),
            sa.Column("version", sa.BigInteger(), nullable=False),
        )
    if "generations" not in existing:
        op.create_table(
            "generations",
            sa.Column("id", sa.String(32), primary_key=True),
            sa.Column("first_version", sa.BigInteger(), nullable=False),
            sa.Column("last_version", sa.BigInteger(), nullable=True),
            sa.Column("started_at", sa.String(40), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("generations")
    op.drop_table("given_back")
