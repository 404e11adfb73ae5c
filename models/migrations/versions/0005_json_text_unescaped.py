"""JSON columns stored as UTF-8 text, not \\u-escaped, so the search index can read them

Revision ID: 0005
Revises: 0004

The full-text index reads the JSON text of a contact's e-mails, phones and tags. Python's
json.dumps escapes every non-ASCII character by default, so a tag "café" was indexed as
"caf\\u00e9" and could not be found by typing "café" (nor Chinese tags, nor an umlaut in an
e-mail address). The engine now writes UTF-8 as is (models.types.json_text); this rewrites the
values already stored that way. The search triggers fire on the UPDATE and reindex those rows.
The values are the same JSON, so nothing is queued for sync.
"""

import json
from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# Frozen here (a migration never imports live code): every JSON column of the record tables.
_JSON_COLUMNS = {
    "contacts": ["emails", "phones", "personal_dates", "tags"],
    "visits": ["contact_ids"],
}


def upgrade() -> None:
    conn = op.get_bind()
    for table, columns in _JSON_COLUMNS.items():
        for column in columns:
            # LIKE treats the backslash literally: rows holding a \u escape.
            rows = conn.exec_driver_sql(
                f"SELECT id, {column} FROM {table} WHERE {column} LIKE '%\\u%'"
            ).fetchall()
            for row_id, value in rows:
                text = json.dumps(json.loads(value), ensure_ascii=False)
                conn.exec_driver_sql(f"UPDATE {table} SET {column} = ? WHERE id = ?", (text, row_id))


def downgrade() -> None:
    pass  # escaped or not, it is the same JSON: nothing to undo
