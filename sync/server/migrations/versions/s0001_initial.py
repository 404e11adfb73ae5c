"""server schema: users, tokens, clients, results, rows, conflicts, evictions

Revision ID: s0001
Revises:
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sync.server import tables

revision: str = "s0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # The first revision creates the tables as defined; later revisions alter them explicitly.
    bind = op.get_bind()
    tables.metadata.create_all(bind)
    bind.execute(sa.insert(tables.counter).values(id=1, version=0))
    bind.execute(sa.insert(tables.meta).values(key="epoch", value=uuid.uuid4().hex))
    bind.execute(sa.insert(tables.meta).values(key="purged_through", value="0"))


def downgrade() -> None:
    tables.metadata.drop_all(op.get_bind())
