"""clients remember the scopes they last pulled with

Revision ID: s0002
Revises: s0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0002"
down_revision: str | None = "s0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # s0001 creates tables from the current definitions, so a fresh database already has it.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("clients")}
    if "scopes" not in columns:
        op.add_column("clients", sa.Column("scopes", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("clients", "scopes")
