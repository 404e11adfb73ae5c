"""login_failures: failed sign-ins counted in the database, shared by every server process

Revision ID: s0005
Revises: s0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0005"
down_revision: str | None = "s0004"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # s0001 creates tables from the current definitions, so a fresh database already has it.
    if "login_failures" not in sa.inspect(op.get_bind()).get_table_names():
        op.create_table(
            "login_failures",
            sa.Column("key", sa.String(300), primary_key=True),
            sa.Column("failures", sa.Integer(), nullable=False),
            sa.Column("last_at", sa.Float(), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("login_failures")
