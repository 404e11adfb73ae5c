"""contacts.merged_into: the survivor a merged-away contact now lives on

Revision ID: 0012
Revises: 0011

A contact merged into another (Find duplicates) is tombstoned and names its survivor, so the
sync server can send a late edit of it (or a note added to it offline) to the survivor instead
of reviving it. A plain nullable column (no batch rebuild: that would drop the search triggers).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("merged_into", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("contacts", "merged_into")
