"""The server's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Synced rows live in one table as JSON documents keyed by (entity, id): the server checks each
pushed field against the specs declared with the client's ORM classes (``models.values``, applied
by ``sync.fields``) instead of keeping a second copy of every column, so a new column needs no
server migration.

The busy requests' statements take their column lists from these definitions
(``sync.server.statements``); the rare ones use them through SQLAlchemy Core.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(50), primary_key=True),
    Column("value", Text, nullable=False),
)

# One row (id=1). Every write takes its versions from here while holding the row lock until
# commit, so versions are handed out in commit order and a reader never skips a row.
counter = Table(
    "counter",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

# One row per run of the server on this database (a new one at every start, and at ``new-epoch``),
# with the range of versions it handed out. A cursor names the generation it was issued in: one
# the database does not know, or a version beyond its generation's end, was issued by a history
# this database no longer holds (it was restored from a backup), whatever has been written since.
generations = Table(
    "generations",
    metadata,
    Column("id", String(32), primary_key=True),
    # The counter when it began; its versions are above this, up to ``last_version``.
    Column("first_version", BigInteger, nullable=False),
    # Set when the next generation begins; NULL for the current one.
    Column("last_version", BigInteger, nullable=True),
    Column("started_at", String(40), nullable=False),
)

# The last give-back of each row (``merge.Applier._give_back``): the version it had in the lost
# history and the version it was written at here. While the row is still at that version, a
# later give-back of an older lost version changes nothing and one of a newer lost version wins.
given_back = Table(
    "given_back",
    metadata,
    Column("entity", String(30), primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("old_version", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
)

teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("team_id", Integer, ForeignKey("teams.id"), nullable=True),
    Column("manager", Boolean, nullable=False, default=False),
    Column("created_at", String(40), nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    # sha256 of the bearer token: a stolen database does not give working tokens.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("revoked_at", String(40), nullable=True),
    Index("ix_tokens_user", "user_id"),
)

clients = Table(
    "clients",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("last_mid", BigInteger, nullable=False),
    Column("created_at", String(40), nullable=False),
    # The scopes this laptop last pulled with: when the user changes team, it must reconcile.
    Column("scopes", Text, nullable=True),
)

results = Table(
    "results",
    metadata,
    Column("client_id", String(36), ForeignKey("clients.id"), primary_key=True),
    Column("mid", BigInteger, primary_key=True, autoincrement=False),
    Column("status", String(10), nullable=False),
    Column("version", BigInteger, nullable=True),
    Column("reason", Text, nullable=True),
    # What the mutation held (``push.mutation_digest``): a replay of the id with other content is
    # refused instead of answered with this result. NULL for results stored before s0004.
    Column("digest", String(32), nullable=True),
)

rows = Table(
    "rows",
    metadata,
    Column("entity", String(30), primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("scope", String(120), nullable=False),
    Column("data", JSON, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("deleted_at", String(40), nullable=True),
    # Version at which the row was deleted: tombstone collection works on versions, not clocks.
    Column("deleted_version", BigInteger, nullable=True),
    Column("updated_at", String(40), nullable=False),
    # Who wrote the current version: a delete of a row someone else edited since is reported.
    Column("writer", String(200), nullable=False),
    Index("ix_rows_scope_version", "scope", "version"),
    Index("ix_rows_version", "version"),
)

conflicts = Table(
    "conflicts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("entity", String(30), nullable=False),
    Column("row_id", String(36), nullable=False),
    Column("field", String(100), nullable=True),
    Column("kind", String(20), nullable=False),
    Column("kept", JSON, nullable=True),
    Column("lost", JSON, nullable=True),
    Column("user_name", String(200), nullable=False),
    Column("at", String(40), nullable=False),
    Column("scope", String(120), nullable=False),
    Column("version", BigInteger, nullable=False),
    Index("ix_conflicts_scope_version", "scope", "version"),
)

evictions = Table(
    "evictions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entity", String(30), nullable=False),
    Column("row_id", String(36), nullable=False),
    Column("scope", String(120), nullable=False),
    Column("version", BigInteger, nullable=False),
    Index("ix_evictions_scope_version", "scope", "version"),
)

# Failed sign-ins per user name or client address (``login_limits``), shared by every server
# process on this database: a guesser gets no more tries by landing on another process.
login_failures = Table(
    "login_failures",
    metadata,
    # "name:<user name>" or "address:<client address>"
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False),
    # Wall-clock seconds (time.time()) of the last failure: processes on several hosts share it.
    Column("last_at", Float, nullable=False),
)
