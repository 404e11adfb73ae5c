"""The HTTP API (FastAPI). Routes are thin: they authenticate, then call ``ops``, ``push`` or ``reads``."""
# No "from __future__ import annotations" here: FastAPI reads the route annotations at runtime,
# and the dependency aliases are local to create_app.

import functools
import logging
import math
import os
import uuid
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp

from models.migrate import revisions_oldest_first
from sync.fields import entity_fields
from sync.protocol import (
    API,
    MIN_SCHEMA,
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
    RestorePointRequest,
    RestorePointResponse,
    SnapshotRequest,
    ValidationErrors,
)
from sync.server import auth, observe, ops, reads
from sync.server.auth import Actor
from sync.server.db import PENDING, ServerDB, fork_point, get_meta, start_generation
from sync.server.login_limits import FailureCounts, LoginGate, LoginRefused
from sync.server.middleware import GZIP_LEVEL, BodyLimitMiddleware, FastRoutes
from sync.server.push import push as apply_push
from sync.server.restore_watch import watch_restores

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


# Every answer a route may give besides its own: a malformed body or header (400: the protocol
# header too new, bad gzip, unparsable JSON), a body that does not validate (422, FastAPI's
# shape) or a value refused as a whole request (422, ours), a busy database (503).
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody},
    401: {"model": ErrorBody},
    410: {"model": ErrorBody},
    413: {"model": ErrorBody},
    422: {"model": ValidationErrors | ErrorBody},
    426: {"model": ErrorBody},
    503: {"model": ErrorBody},
}


# See ``push_fast`` in ``create_app``.
INLINE_MUTATIONS = 50
DB_THREADS = 4


def error_answer(exc: Exception) -> tuple[int, dict[str, Any], dict[str, str]] | None:
    """How the API answers an exception a route may raise: (status, body, headers); None for
    anything else (a bug: 500). Shared by FastAPI's handlers and ``FastRoutes``."""
    if isinstance(exc, ops.OpError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return exc.status, {"detail": exc.detail, "reason": exc.reason, **exc.extra}, headers
    if isinstance(exc, DataError):
        # A value the database cannot store (e.g. NUL in text on PostgreSQL): the client's fault.
        log.info("refused a value the database cannot store: %s", exc.orig)
        return 422, {"detail": "a value cannot be stored", "reason": "bad_value"}, {}
    if isinstance(exc, OperationalError):
        # Transient (lock timeout, lost connection): the transaction rolled back, retry the same bytes.
        log.warning("database error, asking the client to retry: %s", exc)
        return 503, {"detail": "the server is busy, try again", "reason": "busy"}, {}
    return None


def _echoable(value: Any) -> Any:
    """``value`` as a JSON answer can hold it: a 422 echoes the bad input, and NaN or a lone
    surrogate in it made the answer itself fail (500) where the client's mistake is a 4xx."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_echoable(k): _echoable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_echoable(v) for v in value]
    return value


def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": _echoable(jsonable_encoder(exc.errors()))}, 422)


class SyncAPI(FastAPI):
    """FastAPI with layers in front of its whole middleware stack (``outer``): the body limit,
    then the sync routes' fast path, which would otherwise pay for the error, telemetry and body
    layers FastAPI puts around every request."""

    outer: Callable[[ASGIApp], ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()
        return self.outer(inner) if self.outer is not None else inner


class SchemaNotReady(RuntimeError):
    """The database needs ``python -m sync.server migrate`` before a server may start on it."""


def create_app(url: str, *, max_body: int = DEFAULT_MAX_BODY) -> SyncAPI:
    """The app on ``url``. It never migrates (``python -m sync.server migrate`` does, once, before
    a rolling restart): several processes starting at once must not all run the migrations."""
    db = ServerDB(url)
    if db.schema_status() == PENDING:
        db.close()
        raise SchemaNotReady(
            "the database's schema is older than this server: run `python -m sync.server migrate` first"
        )
    # Every run of the server hands out versions in a generation of its own: a cursor from a
    # generation this database does not know was issued by a history it lost (a restore).
    with db.write() as conn:
        start_generation(conn)
    # From here on, a database replaced under this process (a restore) is noticed by itself.
    app_restore_watch = watch_restores(db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        db.close()

    app = SyncAPI(title="Rapport sync", version=str(PROTOCOL), lifespan=lifespan)
    observe.configure_logging(os.environ.get("RAPPORT_LOG_LEVEL", "info"))
    pool = db.write_engine.pool
    observe.watch_pool(lambda: getattr(pool, "checkedout", int)(), lambda: getattr(pool, "size", int)())
    app.state.db = db
    app.state.restore_watch = app_restore_watch
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=GZIP_LEVEL)
    bearer = HTTPBearer(auto_error=False)

    async def bearer_token(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        # Async: no worker thread for a check that needs no database.
        if creds is None:
            raise ops.OpError(401, "log in first", "no_token")
        return creds.credentials

    TokenDep = Annotated[str, Depends(bearer_token)]

    def current_actor(token: TokenDep) -> Actor:
        with db.read() as conn:
            return ops.authenticate(conn, token)

    ActorDep = Annotated[Actor, Depends(current_actor)]

    def _handled(_request: Request, exc: Exception) -> JSONResponse:
        status, content, headers = error_answer(exc) or (500, {"detail": "internal error"}, {})
        return JSONResponse(content, status, headers=headers)

    for handled in (ops.OpError, DataError, OperationalError):
        app.add_exception_handler(handled, _handled)
    app.add_exception_handler(RequestValidationError, _invalid_request)

    @app.get("/healthz", response_model=Health, responses={503: {"model": ErrorBody}})
    def healthz() -> Any:
        # The load balancer's check: ready only when the database answers and its schema is one
        # this release can serve (pending migrations, e.g. a database restored from an old dump).
        try:
            status = db.schema_status()
            if status != PENDING:
                with db.glance() as conn:
                    return Health(status="ok", protocol=PROTOCOL, epoch=get_meta(conn, "epoch"))
            detail, reason = "not ready: database migrations are pending", "migrations_pending"
        except DBAPIError as exc:
            log.warning("not ready: the database does not answer: %s", exc.orig)
            detail, reason = "not ready: the database does not answer", "database_unreachable"
        return JSONResponse({"detail": detail, "reason": reason}, 503)

    gate = LoginGate(FailureCounts(db))

    def find_user(name: str) -> tuple[int | None, str]:
        with db.read() as conn:
            return auth.password_hash(conn, name)

    def sign_in(user_id: int) -> LoginResponse:
        with db.read() as conn:
            name, team, manager = auth.user_info(conn, user_id)
        with db.write() as conn:
            token, expires = auth.issue_token(conn, user_id)
        return LoginResponse(
            token=token, username=name, team=team, manager=manager, expires_at=expires.isoformat()
        )

    @app.post(f"{API}/login", responses={**_ERRORS, 429: {"model": ErrorBody}, 503: {"model": ErrorBody}})
    async def login(req: LoginRequest, request: Request) -> LoginResponse:
        # Async: a login waiting for its turn to check a password holds no thread (login_limits).
        address = request.client.host if request.client else ""
        try:
            async with gate.attempt(req.username, address) as attempt:
                user_id, stored = await anyio.to_thread.run_sync(find_user, req.username)
                right = await gate.check(functools.partial(auth.verify_password, stored, req.password))
                if not right or user_id is None:
                    raise ops.OpError(401, "wrong user name or password", "bad_password")
                await attempt.succeeded()
        except LoginRefused as exc:
            reason = "too_many_attempts" if exc.status == 429 else "busy"
            raise ops.OpError(exc.status, exc.detail, reason, retry_after=exc.retry_after) from None
        return await anyio.to_thread.run_sync(sign_in, user_id)

    @app.post(f"{API}/logout", responses=_ERRORS, status_code=204)
    def logout(token: TokenDep) -> None:
        with db.write() as conn:
            ops.authenticate(conn, token)
            auth.revoke_token(conn, token)

    # The busy routes authenticate inside their own transaction rather than through
    # ``current_actor``: one worker thread and one transaction per request instead of two or three.
    @app.post(f"{API}/register", responses=_ERRORS)
    def register(req: RegisterRequest, token: TokenDep) -> RegisterResponse:
        with db.write() as conn:
            client_id, epoch = ops.register(conn, ops.authenticate(conn, token), req.first_mid)
        return RegisterResponse(client_id=client_id, epoch=epoch)

    # Where the busy routes' database work runs. A pull, on the event loop itself: a couple of
    # statements, well under a millisecond (on PostgreSQL without BEGIN/COMMIT), and 50 laptops
    # syncing at once through the 40-thread pool spent most of their time handing the GIL and
    # SQLite's write lock around (bench/sync_crowd.py: 127 -> 391 syncs/s on SQLite). A push on
    # SQLite too, SQLite admitting one writer anyway, unless the batch is big (a thread then, so
    # one rep's catch-up does not stall the others). A push on PostgreSQL waits for its commit
    # to reach the disk: on a few threads those waits overlap (more only contend for the GIL).
    push_inline = INLINE_MUTATIONS if db.is_sqlite else 0
    db_threads = anyio.CapacityLimiter(DB_THREADS)

    def push_work(req: PushRequest, token: str) -> bytes:
        # Authenticated inside the push's own transaction, with the first thing it reads.
        with db.write() as conn:
            answer = apply_push(conn, token, req)
        observe.pushed(answer)
        return answer.model_dump_json().encode()

    async def push_fast(req: PushRequest, token: str) -> bytes:
        if len(req.mutations) <= push_inline:
            return push_work(req, token)
        return await anyio.to_thread.run_sync(push_work, req, token, limiter=db_threads)

    async def pull_fast(req: PullRequest, token: str) -> bytes:
        page = pull_page(req, token)
        observe.pulled(page)
        return page.model_dump_json().encode()

    # Declared for /openapi.json, and they answer whatever ``FastRoutes`` hands over.
    @app.post(
        f"{API}/push",
        response_model=PushResponse,
        responses={**_ERRORS, 404: {"model": ErrorBody}, 409: {"model": GapError}},
    )
    async def push(req: PushRequest, token: TokenDep) -> Response:
        return Response(await push_fast(req, token), media_type="application/json")

    @app.post(f"{API}/pull", response_model=PullResponse, responses=_ERRORS)
    async def pull(req: PullRequest, token: TokenDep) -> Response:
        return Response(await pull_fast(req, token), media_type="application/json")

    @app.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
    def metrics() -> Response:
        # For Prometheus on the private network: deploy/haproxy.cfg does not pass it on.
        return Response(observe.metrics_body(), media_type=observe.METRICS_CONTENT_TYPE)

    def pull_page(req: PullRequest, token: str) -> PullResponse:
        # Two statements that need not share a snapshot: the committed version read first bounds
        # the page (on PostgreSQL every version below it is committed: the counter lock orders
        # the commits), and a row changed in between has a new version for the next pull.
        with db.glance() as conn:
            start = reads.pull_start(conn, token, req)
            record, moved = start.scope_change()
            if not record:
                return reads.pull(conn, start, req)
        # Rare: only then a write transaction (on SQLite, pulls must not queue behind pushes).
        record_scopes(start.actor, req.client_id)
        if moved and req.cursor is not None:
            raise ops.OpError(410, "your territory changed: re-pull and reconcile", "scope_changed")
        with db.glance() as conn:
            return reads.pull(conn, start, req)

    def record_scopes(actor: Actor, client_id: uuid.UUID | None) -> None:
        assert client_id is not None
        with db.write() as conn:
            reads.set_client_scopes(conn, client_id, reads.scope_key(actor))

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
    def snapshot(req: SnapshotRequest, token: TokenDep) -> StreamingResponse:
        with db.read() as conn:  # refuse before streaming: a 410 cannot follow a 200
            actor = ops.authenticate(conn, token)
            record = req.client_id is not None and reads.scope_change(conn, actor, req.client_id)[0]
            reads.snapshot_bounds(conn, req)
        if record:  # the pulls that follow the download compare against these scopes
            record_scopes(actor, req.client_id)

        def lines() -> Iterator[bytes]:
            # One read transaction for the whole response: one consistent cut of the rows.
            with db.read() as conn:
                epoch, upper = reads.snapshot_bounds(conn, req)
                chunk = b""
                for chunk in reads.snapshot(conn, actor, req, epoch, upper):
                    yield chunk
                observe.snapshot_sent(chunk)  # the end line: how many rows went out

        return StreamingResponse(
            _gzipped(lines()), media_type=SNAPSHOT_MEDIA_TYPE, headers={"Content-Encoding": "gzip"}
        )

    @app.post(f"{API}/restore-point", responses=_ERRORS)
    def restore_point(req: RestorePointRequest, actor: ActorDep) -> RestorePointResponse:
        del actor  # any signed-in laptop may ask: the answer is only a version number
        with db.read() as conn:
            return RestorePointResponse(fork=fork_point(conn, req.generations), epoch=get_meta(conn, "epoch"))

    @app.get(f"{API}/ids/{{entity}}", responses={**_ERRORS, 404: {"model": ErrorBody}})
    def ids(entity: str, actor: ActorDep) -> IdsResponse:
        if entity not in entity_fields():
            raise ops.OpError(404, "unknown entity", "not_found")
        with db.read() as conn:
            found, cursor = reads.live_ids(conn, actor, entity)
        return IdsResponse(entity=entity, ids=found, cursor=cursor)

    app.outer = lambda inner: observe.Observed(
        BodyLimitMiddleware(
            FastRoutes(
                inner,
                routes={f"{API}/push": (PushRequest, push_fast), f"{API}/pull": (PullRequest, pull_fast)},
                errors=error_answer,
            ),
            max_body=max_body,
            schemas=revisions_oldest_first(),
            min_schema=MIN_SCHEMA,
        )
    )

    return app
