"""The sync wire format: pydantic v2 schemas shared by the client and the server.

Values inside ``patch``/``base``/``data`` are in wire form (``models.types.to_wire``): UUIDs and
dates as ISO strings, lists and dicts as JSON. Mutations are field patches, so a client never
blanks a column it does not know (invariant 9).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Bumped when a request or response changes shape. The server answers 426 to anything older
# than MIN_PROTOCOL, so an old laptop keeps its outbox and tells the rep to update.
PROTOCOL = 1
MIN_PROTOCOL = 1
PROTOCOL_HEADER = "X-Rapport-Protocol"
SCHEMA_HEADER = "X-Rapport-Schema"
# The oldest laptop schema (its Alembic revision, sent as SCHEMA_HEADER) the server still syncs
# with; older gets 426 ``schema_too_old``, and a schema the server does not know (a laptop newer
# than the server) 400 ``server_too_old``: both keep the outbox and say so (docs/sync.md,
# "Versions"). Raised when a release's synced fields change so that an older laptop's pushes
# would be refused or would lose something; a purely local migration leaves it.
MIN_SCHEMA = "0003"
API = "/api/v1"

# Upper bounds that keep one request bounded in memory on the server.
MAX_BATCH = 500
MAX_PAGE = 5000
MAX_FIELD_COUNT = 64
# Ids and versions fit a signed 64-bit column on every database (and a JSON number exactly).
MAX_INT = 2**53

# "skip" spends a mutation id without a change: the laptop could not send what it held under
# that id (too large for the server). If the server already has the id, it answers with the
# stored result (the change had arrived after all); otherwise it records the id as rejected.
Op = Literal["create", "update", "delete", "restore", "skip"]
# In a mutation's ``base``: the laptop gives back its copy of a row after the server's database
# went back in time (invariant 7); the value is the last version both histories share
# (``RestorePointResponse.fork``), and ``GIVE_BACK_VERSION`` the version the laptop held the row
# at in the history the server lost.
GIVE_BACK = "_restored"
GIVE_BACK_VERSION = "_was"
Status = Literal["applied", "conflict", "rejected"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Strict):
    # No control characters (PostgreSQL refuses NUL in text; no user name needs them).
    username: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
    password: str = Field(min_length=1, max_length=1000)


class LoginResponse(_Strict):
    token: str
    username: str
    team: str | None
    manager: bool
    expires_at: str


class RegisterRequest(_Strict):
    # The first mutation id this client will send: a re-registering laptop keeps its numbering.
    first_mid: int = Field(default=1, ge=1, le=MAX_INT, strict=True)


class RegisterResponse(_Strict):
    client_id: uuid.UUID
    epoch: str


class Mutation(_Strict):
    # Strict: an id is a JSON integer, never "1" or true (each would be another spelling of an
    # id the server has stored results for). UUIDs are parsed, so every spelling pydantic
    # accepts means the same row and both ends use the canonical lowercase form from there on.
    mid: int = Field(ge=1, le=MAX_INT, strict=True)
    entity: str = Field(min_length=1, max_length=30)
    row_id: uuid.UUID
    op: Op
    patch: dict[str, Any] = Field(default_factory=dict, max_length=MAX_FIELD_COUNT)
    # The value of each patched field the client started from (the three-way merge's base).
    base: dict[str, Any] = Field(default_factory=dict, max_length=MAX_FIELD_COUNT)


class PushRequest(_Strict):
    client_id: uuid.UUID
    epoch: str = Field(max_length=64)
    # The laptop's pull cursor: a server that went back in time refuses the push (410
    # ``server_restored``) before applying anything to rows it may have lost.
    cursor: Cursor | None = None
    mutations: list[Mutation] = Field(min_length=1, max_length=MAX_BATCH)


class MutationResult(_Strict):
    mid: int
    status: Status
    version: int | None = None
    reason: str | None = None


class PushResponse(_Strict):
    results: list[MutationResult]
    last_mid: int


class GapError(_Strict):
    """409 body: the client skipped a mutation id and must resend from ``expected_mid``."""

    detail: str
    reason: str | None = None
    expected_mid: int


class Cursor(_Strict):
    epoch: str = Field(max_length=64)
    version: int = Field(ge=0, le=MAX_INT, strict=True)
    # The server's generation when it issued this cursor (a new one at every server start): a
    # server restored from a backup does not know it, or knows it ended below ``version``.
    generation: str | None = Field(default=None, max_length=64)


class PullRequest(_Strict):
    # Lets the server notice that the user's territory changed since this laptop last pulled.
    client_id: uuid.UUID | None = None
    cursor: Cursor | None = None
    # Fixed by the first page of a catch-up (keyset pagination up to a stable bound).
    upper: int | None = Field(default=None, ge=0, le=MAX_INT, strict=True)
    limit: int = Field(default=2000, ge=1, le=MAX_PAGE, strict=True)
    # The highest mutation id of ``client_id`` the server acknowledged: a server that no longer
    # remembers it (or the client) went back in time, even if the cursor looks fine.
    acked_mid: int | None = Field(default=None, ge=0, le=MAX_INT, strict=True)


class RowChange(_Strict):
    entity: str
    id: uuid.UUID
    version: int
    deleted: bool
    data: dict[str, Any]
    updated_at: str


class ConflictRecord(_Strict):
    id: uuid.UUID
    entity: str
    row_id: uuid.UUID
    field: str | None
    kind: Literal["field", "delete_edit", "note_copy", "orphan"]
    kept: Any = None
    lost: Any = None
    user: str
    at: str
    version: int


class Eviction(_Strict):
    """A row that left this user's scope: the laptop drops it (it stays on the server)."""

    entity: str
    id: uuid.UUID
    version: int


class PullResponse(_Strict):
    changes: list[RowChange]
    conflicts: list[ConflictRecord]
    evictions: list[Eviction]
    cursor: Cursor
    upper: int
    has_more: bool


class SnapshotPosition(_Strict):
    """Where a cut snapshot resumes: the last row received (rows come ordered by scope, version)."""

    scope: str = Field(max_length=120)
    version: int = Field(ge=0, le=MAX_INT, strict=True)


class SnapshotRequest(_Strict):
    client_id: uuid.UUID | None = None
    # The epoch the laptop resumes in: a restored server answers 410 instead of mixing epochs.
    epoch: str | None = Field(default=None, max_length=64)
    # Fixed by the first response; a resumed snapshot keeps it so the rows form one cut.
    upper: int | None = Field(default=None, ge=0, le=MAX_INT, strict=True)
    after: SnapshotPosition | None = None
    # The generation ``upper`` was issued in (the header's): a resumed snapshot from a history
    # the server lost is refused like a cursor (410 ``server_restored``).
    generation: str | None = Field(default=None, max_length=64)


class SnapshotHeader(_Strict):
    """First line of a snapshot stream. Rows follow, then conflict records, then ``SnapshotEnd``.

    A row line is ``{"s": scope, "e": entity, "i": id, "v": version, "x": 0|1 (deleted),
    "u": updated_at, "d": {field: wire value}}``: every row of the user's scopes with a version up
    to ``upper``. Row lines are not validated one by one on the laptop (450,000 of them); their
    values are the server's stored documents, checked on the way in (``sync.fields``).
    """

    epoch: str
    upper: int
    total: int
    scopes: list[str]
    generation: str | None = None


class SnapshotEnd(_Strict):
    rows: int


SNAPSHOT_MEDIA_TYPE = "application/x-ndjson"


class IdsResponse(_Strict):
    entity: str
    ids: list[uuid.UUID]
    cursor: Cursor


class RestorePointRequest(_Strict):
    """After a 410 (``server_restored`` or ``epoch_changed``): the server generations this laptop
    saw, newest first, so the server can say where their histories part."""

    generations: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=200)


class RestorePointResponse(_Strict):
    # Versions up to ``fork`` are in the server's history; a row the laptop holds at a higher
    # version was written in a history the server lost, and the laptop gives it back.
    fork: int
    epoch: str


class ErrorBody(_Strict):
    detail: str
    reason: str | None = None


class FieldProblem(BaseModel):
    """One entry of a 422 for a body that does not validate (FastAPI's shape; the input it
    echoes is made encodable: NaN as text, a lone surrogate escaped)."""

    loc: list[str | int]
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class ValidationErrors(BaseModel):
    detail: list[FieldProblem]


class Health(_Strict):
    status: Literal["ok"]
    protocol: int
    epoch: str
