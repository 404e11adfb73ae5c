"""results keep a digest of the mutation they answer (a replayed id with other content is refused)

Revision ID: s0003_result_digest
Revises: s0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0003_result_digest"
down_revision: str | None = "s0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # s0001 creates tables from the current definitions, so a fresh database already has it.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("results")}
    if "digest" not in columns:
        op.add_column("results", sa.Column("digest", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("results", "digest")
