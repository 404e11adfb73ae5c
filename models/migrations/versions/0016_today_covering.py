"""Today's thank-yous for kept promises and its detractors read from their indexes

Revision ID: 0016
Revises: 0015

Profiled on the 100,000-contact database, the slowest statement of Today was the count of the
thank-yous owed (about 40 ms), three quarters of it the customers' promises kept in the last
month (3,700 rows): 0015's index on the day they were kept found them, but each one's due date,
contact and id were read from its row. Those columns now follow the day in that index. The
detractors' window (0015's index on ``received_at``) likewise read every answer of the last 90
days for its score and contact: the index now carries them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # Still ordered by the day kept (Today lists them in that order); the rest only read.
    op.execute("DROP INDEX IF EXISTS ix_commitments_done_byday")
    op.execute(
        "CREATE INDEX ix_commitments_done_byday ON commitments "
        "(status, direction, date(done_at), done_at, due_date, contact_id, id) WHERE deleted_at IS NULL"
    )
    op.drop_index("ix_feedback_received", "feedback")
    op.create_index(
        "ix_feedback_received", "feedback", ["received_at", "deleted_at", "score", "contact_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_feedback_received", "feedback")
    op.create_index("ix_feedback_received", "feedback", ["received_at"])
    op.execute("DROP INDEX IF EXISTS ix_commitments_done_byday")
    op.execute(
        "CREATE INDEX ix_commitments_done_byday ON commitments (status, direction, date(done_at)) "
        "WHERE deleted_at IS NULL"
    )
