"""Sample data lives in a database file of its own, never in the rep's.

"Try with sample data" opens ``sample.sqlite`` in the data folder (filled on first use), and
the rep's own database stays exactly as it was, empty on a first start. Keeping the two apart
by file, rather than by marking sample rows inside the rep's database, means no real contact,
note or visit can ever point at a sample account, nothing sample can reach the team's server
(the sample file is marked as such and sync refuses it), and leaving the sample is one action
that deletes nothing. See docs/sample-data.md.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import Database
from models.entities import SYNCED_CLASSES, Meta, OutboxEntry
from models.errors import SampleDataError
from models.paths import sample_db_path

SAMPLE_KEY = "sample_data"  # in the meta table of a sample database


__all__ = ["SAMPLE_KEY", "has_records", "is_sample", "prepare_sample", "sample_db_path"]


def is_sample(session: Session) -> bool:
    row = session.get(Meta, SAMPLE_KEY)
    return bool(row is not None and row.value)


def _any_rows(session: Session) -> bool:
    return any(session.scalar(select(cls.id).limit(1)) is not None for cls in SYNCED_CLASSES)


def has_records(session: Session) -> bool:
    """Anything of the rep's: a row (even deleted), a queued change, or a sync identity."""
    if _any_rows(session) or session.scalar(select(OutboxEntry.seq).limit(1)) is not None:
        return True
    return session.scalar(select(Meta.key).where(Meta.key != SAMPLE_KEY).limit(1)) is not None


def prepare_sample(db: Database) -> bool:
    """Make ``db`` a sample database. True when it has no rows yet and must be filled.

    Refuses a database that holds the rep's own records: sample data never goes in with them.
    """
    with db.write() as s:
        if is_sample(s):
            return not _any_rows(s)
        if has_records(s):
            raise SampleDataError(
                f"{db.path} holds your own records, so sample data will not be added to it. "
                "Sample data goes in a database of its own (a new file)."
            )
        s.add(Meta(key=SAMPLE_KEY, value=True))
    return True
