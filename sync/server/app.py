"""The HTTP API (FastAPI). Routes are thin: they authenticate, then call ``sync.server.ops``."""
# No "from __future__ import annotations" here: FastAPI reads the route annotations at runtime,
# and the dependency aliases are local to create_app.

import logging
import uuid
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DataError, OperationalError
from starlette.middleware.gzip import GZipMiddleware

from sync.fields import entity_fields
from sync.protocol import (
    API,
    PROTOCOL,
    SNAPSHOT_MEDIA_TYPE,
    ErrorBody,
    GapError,
    Health,
    IdsResponse,
    LoginRequest,
    LoginResponse,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    RegisterRequest,
    RegisterResponse,
    SnapshotRequest,
)
from sync.server import auth, ops
from sync.server.db import ServerDB, get_meta
from sync.server.merge import Actor
from sync.server.middleware import BodyLimitMiddleware

log = logging.getLogger(__name__)
DEFAULT_MAX_BODY = 8 * 1024 * 1024
# Level 1: on loopback or a LAN the CPU, not the wire, bounds a snapshot; level 1 still shrinks
# the JSON about sixfold, which is what a rep's hotel Wi-Fi needs.
SNAPSHOT_GZIP_LEVEL = 1


def _gzipped(chunks: Iterator[bytes]) -> Iterator[bytes]:
    packer = zlib.compressobj(SNAPSHOT_GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip framing
    for chunk in chunks:
        out = packer.compress(chunk)
        if out:
            yield out
    yield packer.flush()

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody},
    410: {"model": ErrorBody},
    413: {"model": ErrorBody},
    426: {"model": ErrorBody},
}


def create_app(url: str, *, max_body: int = DEFAULT_MAX_BODY, migrate: bool = True) -> FastAPI:
    db = ServerDB(url)
    if migrate:
        db.migrate()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        db.close()

    app = FastAPI(title="Rapport sync", version=str(PROTOCOL), lifespan=lifespan)
    app.state.db = db
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(BodyLimitMiddleware, max_body=max_body)
    bearer = HTTPBearer(auto_error=False)

    def current_actor(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Actor:
        if creds is None:
            raise ops.OpError(401, "log in first", "no_token")
        with db.read() as conn:
            try:
                return auth.authenticate(conn, creds.credentials)
            except auth.AuthError as exc:
                raise ops.OpError(401, str(exc), "bad_token") from exc

    ActorDep = Annotated[Actor, Depends(current_actor)]

    @app.exception_handler(ops.OpError)
    def _op_error(_request: Request, exc: ops.OpError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            {"detail": exc.detail, "reason": exc.reason, **exc.extra}, exc.status, headers=headers
        )

    @app.exception_handler(DataError)
    def _bad_value(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot store (e.g. NUL in text on PostgreSQL): the client's fault.
        log.info("refused a value the database cannot store: %s", exc.orig)
        return JSONResponse({"detail": "a value cannot be stored", "reason": "bad_value"}, 422)

    @app.exception_handler(OperationalError)
    def _db_busy(_request: Request, exc: OperationalError) -> JSONResponse:
        # Transient (lock timeout, lost connection): the transaction rolled back, retry the same bytes.
        log.warning("database error, asking the client to retry: %s", exc)
        return JSONResponse({"detail": "the server is busy, try again", "reason": "busy"}, 503)

    @app.get("/healthz")
    def healthz() -> Health:
        with db.read() as conn:
            return Health(status="ok", protocol=PROTOCOL, epoch=get_meta(conn, "epoch"))

    @app.post(f"{API}/login", responses=_ERRORS)
    def login(req: LoginRequest) -> LoginResponse:
        with db.read() as conn:
            try:
                user_id = auth.check_password(conn, req.username, req.password)
            except auth.AuthError as exc:
                raise ops.OpError(401, str(exc), "bad_password") from exc
            name, team, manager = auth.user_info(conn, user_id)
        with db.write() as conn:
            token, expires = auth.issue_token(conn, user_id)
        return LoginResponse(
            token=token, username=name, team=team, manager=manager, expires_at=expires.isoformat()
        )

    @app.post(f"{API}/logout", responses=_ERRORS, status_code=204)
    def logout(
        _actor: ActorDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> None:
        assert creds is not None
        with db.write() as conn:
            auth.revoke_token(conn, creds.credentials)

    @app.post(f"{API}/register", responses=_ERRORS)
    def register(req: RegisterRequest, actor: ActorDep) -> RegisterResponse:
        with db.write() as conn:
            client_id, epoch = ops.register(conn, actor, req.first_mid)
        return RegisterResponse(client_id=client_id, epoch=epoch)

    @app.post(f"{API}/push", responses={**_ERRORS, 404: {"model": ErrorBody}, 409: {"model": GapError}})
    def push(req: PushRequest, actor: ActorDep) -> PushResponse:
        with db.write() as conn:
            return ops.push(conn, actor, req)

    def note_scopes(actor: Actor, client_id: uuid.UUID) -> bool:
        """Record the scopes this laptop pulls with. True if it pulled with other ones before."""
        # Read first: no write lock per pull when nothing changed.
        with db.read() as conn:
            mine, stored = ops.client_scopes(conn, actor, client_id)
        current = ops.scope_key(actor)
        if not mine or stored == current:
            return False
        with db.write() as conn:
            ops.set_client_scopes(conn, client_id, current)
        return stored is not None

    @app.post(f"{API}/pull", responses=_ERRORS)
    def pull(req: PullRequest, actor: ActorDep) -> PullResponse:
        # The user may have changed team since this laptop last pulled: then it must re-pull and
        # reconcile, dropping what it may no longer see.
        if req.client_id is not None and note_scopes(actor, req.client_id) and req.cursor is not None:
            raise ops.OpError(410, "your territory changed: re-pull and reconcile", "scope_changed")
        with db.read() as conn:
            return ops.pull(conn, actor, req)

    @app.post(
        f"{API}/snapshot",
        response_class=StreamingResponse,
        responses={
            **_ERRORS,
            200: {
                "description": "NDJSON lines, gzip: a SnapshotHeader, rows, conflict records, a SnapshotEnd",
                "content": {SNAPSHOT_MEDIA_TYPE: {}},
            },
        },
    )
    def snapshot(req: SnapshotRequest, actor: ActorDep) -> StreamingResponse:
        if req.client_id is not None:
            note_scopes(actor, req.client_id)  # the pulls that follow start from these scopes
        with db.read() as conn:  # refuse before streaming: a 410 cannot follow a 200
            ops.snapshot_bounds(conn, req)

        def lines() -> Iterator[bytes]:
            # One read transaction for the whole response: one consistent cut of the rows.
            with db.read() as conn:
                epoch, upper = ops.snapshot_bounds(conn, req)
                yield from ops.snapshot(conn, actor, req, epoch, upper)

        return StreamingResponse(
            _gzipped(lines()), media_type=SNAPSHOT_MEDIA_TYPE, headers={"Content-Encoding": "gzip"}
        )

    @app.get(f"{API}/ids/{{entity}}", responses={**_ERRORS, 404: {"model": ErrorBody}})
    def ids(entity: str, actor: ActorDep) -> IdsResponse:
        if entity not in entity_fields():
            raise ops.OpError(404, "unknown entity", "not_found")
        with db.read() as conn:
            found, cursor = ops.live_ids(conn, actor, entity)
        return IdsResponse(entity=entity, ids=found, cursor=cursor)

    return app
