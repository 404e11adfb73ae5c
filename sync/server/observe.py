"""What an operator sees of a running server: one access-log line per request (JSON: user,
route, status, duration, rows) and Prometheus metrics at ``/metrics``.

The routes and ``ops`` leave notes on the request they serve (``note_user``, ``pushed``,
``pulled``) in a context variable; the middleware, outside everything else, writes the line
and counts the request when the answer has gone out (a streamed download included). A route
running in a worker thread sees the same note: anyio copies the context into the thread.

Metrics are per process (a scrape reads the process that answers it): run one process per port
when scraping several (docs/operations.md), rather than ``--workers``.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.protocol import API, PullResponse, PushResponse

access_log = logging.getLogger("rapport.access")

REQUESTS = Counter("rapport_requests", "Requests answered", ["route", "status"])
SECONDS = Histogram(
    "rapport_request_seconds",
    "Time from the request's arrival to the end of its answer",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0),
)
ROWS_PUSHED = Counter("rapport_rows_pushed", "Mutations applied from pushes (conflicts included)")
ROWS_PULLED = Counter("rapport_rows_pulled", "Row changes sent in pull pages and first downloads")
CONFLICTS = Counter("rapport_conflicts", "Mutations applied with a conflict record")
REFUSED = Counter("rapport_refused_changes", "Mutations refused (rejected) by the server")
POOL_IN_USE = Gauge("rapport_db_pool_in_use", "Database connections checked out of this process's pool")
POOL_SIZE = Gauge("rapport_db_pool_size", "Database connections this process's pool keeps open")
RESTORES = Counter("rapport_restores_noticed", "Restores of the database noticed (a new generation began)")

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


def metrics_body() -> bytes:
    return generate_latest()


def watch_pool(in_use: Callable[[], float], size: Callable[[], float]) -> None:
    POOL_IN_USE.set_function(in_use)
    POOL_SIZE.set_function(size)


@dataclass
class Note:
    user: str | None = None
    rows: int | None = None


_NOTE: contextvars.ContextVar[Note | None] = contextvars.ContextVar("rapport_request_note", default=None)


def note_user(name: str) -> None:
    note = _NOTE.get()
    if note is not None:
        note.user = name


def pushed(response: PushResponse) -> None:
    statuses = [r.status for r in response.results]
    conflicts, refused = statuses.count("conflict"), statuses.count("rejected")
    ROWS_PUSHED.inc(len(statuses) - refused)
    CONFLICTS.inc(conflicts)
    REFUSED.inc(refused)
    note = _NOTE.get()
    if note is not None:
        note.rows = len(statuses)


def pulled(response: PullResponse) -> None:
    ROWS_PULLED.inc(len(response.changes))
    note = _NOTE.get()
    if note is not None:
        note.rows = len(response.changes)


def snapshot_sent(end_line: bytes) -> None:
    """Count the rows of a first download, from its end line (``SnapshotEnd``)."""
    rows = int(json.loads(end_line)["end"]["rows"])
    ROWS_PULLED.inc(rows)
    note = _NOTE.get()
    if note is not None:
        note.rows = rows


def _route(path: str) -> str:
    """The route's template: a bounded set of label values whatever the paths asked for."""
    if path.startswith(f"{API}/ids/"):
        return f"{API}/ids/{{entity}}"
    if path.startswith(f"{API}/") or path in ("/healthz", "/metrics", "/openapi.json", "/docs"):
        return path if path.count("/") <= 3 else "other"
    return "other"


class Observed:
    """The outermost layer: times each request, then logs it and counts it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        note = Note()
        token = _NOTE.set(note)
        started = time.perf_counter()
        status = 500  # unless an answer starts: the request failed before it had one

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            _NOTE.reset(token)
            elapsed = time.perf_counter() - started
            route = _route(scope["path"])
            REQUESTS.labels(route, str(status)).inc()
            SECONDS.labels(route).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO) and route != "/healthz":
                client = scope.get("client")
                access_log.info(
                    json.dumps(
                        {
                            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                            "client": client[0] if client else None,
                            "user": note.user,
                            "method": scope["method"],
                            "route": route,
                            "status": status,
                            "ms": round(elapsed * 1000, 1),
                            "rows": note.rows,
                        }
                    )
                )


def configure_logging(level: str) -> None:
    """The access log as bare JSON lines on standard output (the journal or a log shipper adds
    nothing to parse), at ``info``; the server's own warnings on standard error."""
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.propagate = False
    access_log.setLevel(level.upper())
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
