"""One search over everything: visits indexed, phone numbers by their digits, notes by prefix

Revision ID: 0010
Revises: 0009

- ``visits_fts`` indexes a visit's purpose, agenda and location, kept current by triggers like
  the other full-text indexes (migration 0001).
- ``contacts_phones_fts`` finds a contact by any run of digits of a phone number, however it is
  typed ("02079460958", "7946 0958", "+44 20 7946 0958"): a trigram index (substring matches)
  over a view that writes each number as its digits
  ("442079460958"; the query drops a trunk 0). It is external content over that view, so SQLite's
  ``'rebuild'`` (run by ``models.bulk`` after a bulk load) refills it like every other index,
  and the triggers compute the same text from the row, in the transaction that changes it, so
  pulled rows are indexed like local ones.
- ``notes_fts`` gains prefix indexes for one to three characters: without them a prefix the rep
  is still typing ("co") merges the lists of every word it starts, 130-220 ms over a million
  notes; with them it is one list read newest first. Rebuilding it costs about 25 s on a
  million notes, once.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_TOKENIZE = "tokenize='unicode61 remove_diacritics 2'"
_VISIT_COLS = ["purpose", "agenda", "location"]
# Characters of a stored phone list (JSON text) that are not digits: the list's own brackets and
# quotes, and the separators people type in numbers. Commas between numbers become spaces.
_NOT_DIGITS = ("[", "]", '"', " ", "-", "(", ")", ".", "/", "+", "\u00a0")


def phone_digits_sql(phones: str) -> str:
    """The indexed text of a contact's phones (JSON text): each number as its digits,
    '["+44 20 7946 0958", "+49 30 1234"]' -> "442079460958 49301234". Plain string functions,
    not json_each: SQLite refuses a table-valued function inside the statement FTS5 runs for
    'rebuild'. A number typed in its national form ("020 7946 0958") is found by dropping the
    trunk 0 from the query (models.services.search)."""
    expr = phones
    for char in _NOT_DIGITS:
        expr = f"replace({expr}, '{char}', '')"
    return f"replace({expr}, ',', ' ')"


_PHONES_VIEW = (
    "CREATE VIEW contacts_phones_fts_source AS "
    f"SELECT contacts.rowid AS row_key, {phone_digits_sql('contacts.phones')} AS digits FROM contacts"
)
_PHONES_TRIGGERS = [
    "CREATE TRIGGER contacts_phones_fts_ai AFTER INSERT ON contacts BEGIN "
    "INSERT INTO contacts_phones_fts(rowid, digits) "
    f"VALUES (new.rowid, {phone_digits_sql('new.phones')}); END",
    "CREATE TRIGGER contacts_phones_fts_ad AFTER DELETE ON contacts BEGIN "
    "INSERT INTO contacts_phones_fts(contacts_phones_fts, rowid, digits) "
    f"VALUES ('delete', old.rowid, {phone_digits_sql('old.phones')}); END",
    "CREATE TRIGGER contacts_phones_fts_au AFTER UPDATE OF phones ON contacts BEGIN "
    "INSERT INTO contacts_phones_fts(contacts_phones_fts, rowid, digits) "
    f"VALUES ('delete', old.rowid, {phone_digits_sql('old.phones')}); "
    "INSERT INTO contacts_phones_fts(rowid, digits) "
    f"VALUES (new.rowid, {phone_digits_sql('new.phones')}); END",
]


def _visit_sql() -> list[str]:
    names = ", ".join(_VISIT_COLS)
    new = ", ".join(f"new.{c}" for c in _VISIT_COLS)
    old = ", ".join(f"old.{c}" for c in _VISIT_COLS)
    return [
        f"CREATE VIRTUAL TABLE visits_fts USING fts5({names}, content='visits', "
        f"content_rowid='rowid', {_TOKENIZE}, prefix='1 2 3')",
        "CREATE TRIGGER visits_fts_ai AFTER INSERT ON visits BEGIN "
        f"INSERT INTO visits_fts(rowid, {names}) VALUES (new.rowid, {new}); END",
        "CREATE TRIGGER visits_fts_ad AFTER DELETE ON visits BEGIN "
        f"INSERT INTO visits_fts(visits_fts, rowid, {names}) VALUES ('delete', old.rowid, {old}); END",
        f"CREATE TRIGGER visits_fts_au AFTER UPDATE OF {names} ON visits BEGIN "
        f"INSERT INTO visits_fts(visits_fts, rowid, {names}) VALUES ('delete', old.rowid, {old}); "
        f"INSERT INTO visits_fts(rowid, {names}) VALUES (new.rowid, {new}); END",
        "INSERT INTO visits_fts(visits_fts) VALUES ('rebuild')",
    ]


def _notes_fts(prefix: str) -> list[str]:
    # The triggers on notes (0001) name the table, so they keep feeding the new one.
    return [
        "DROP TABLE notes_fts",
        f"CREATE VIRTUAL TABLE notes_fts USING fts5(summary, body, content='notes', "
        f"content_rowid='rowid', {_TOKENIZE}{prefix})",
        "INSERT INTO notes_fts(notes_fts) VALUES ('rebuild')",
    ]


def upgrade() -> None:
    statements = [
        *_visit_sql(),
        _PHONES_VIEW,
        "CREATE VIRTUAL TABLE contacts_phones_fts USING fts5(digits, content='contacts_phones_fts_source', "
        "content_rowid='row_key', tokenize='trigram')",
        *_PHONES_TRIGGERS,
        "INSERT INTO contacts_phones_fts(contacts_phones_fts) VALUES ('rebuild')",
        *_notes_fts(", prefix='1 2 3'"),
    ]
    for sql in statements:
        op.execute(sql)


def downgrade() -> None:
    for trigger in ("visits_fts_ai", "visits_fts_ad", "visits_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for trigger in ("contacts_phones_fts_ai", "contacts_phones_fts_ad", "contacts_phones_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS visits_fts")
    op.execute("DROP TABLE IF EXISTS contacts_phones_fts")
    op.execute("DROP VIEW IF EXISTS contacts_phones_fts_source")
    for sql in _notes_fts(""):
        op.execute(sql)
