"""The sync client: push the outbox, then pull pages, over an injected HTTP transport.

One ``sync()`` is safe to interrupt anywhere: pushes are exactly-once on the server, every
pulled page commits with its cursor, so the next run resumes where this one stopped. No Qt
here: progress is a callback and cancellation a ``threading.Event``.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import json
import logging
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from models.bulk import restore_derived, suspend_derived
from models.db import Database, check_integrity
from models.errors import Cancelled
from models.migrate import head_revision
from models.sample import SAMPLE_KEY
from sync.errors import AuthRejected, SampleDataNotSynced, ServerUnreachable, SyncFailed, VersionMismatch
from sync.lock import sync_lock
from sync.protocol import (
    API,
    GIVE_BACK,
    PROTOCOL,
    PROTOCOL_HEADER,
    SCHEMA_HEADER,
    ConflictRecord,
    Cursor,
    LoginResponse,
    Mutation,
    PullRequest,
    PullResponse,
    PushResponse,
    RegisterResponse,
    RestorePointResponse,
    SnapshotEnd,
    SnapshotHeader,
    SnapshotPosition,
    SnapshotRequest,
)
from sync.snapshot import Prepared, SnapshotLoader
from sync.store import (
    K_ACKED,
    K_CLIENT,
    K_CURSOR,
    K_EPOCH,
    K_NEXT_MID,
    K_RECONCILE,
    K_SNAPSHOT,
    PageCounts,
    Pending,
    SyncStore,
)

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]
SYNCED_ENTITIES = ("account", "contact", "note", "commitment", "visit", "feedback", "purchase")
GZIP_OVER = 1024
SNAPSHOT_BATCH = 25_000  # rows per transaction while loading a snapshot (fewer commits: less WAL)


@dataclass
class SyncSummary:
    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    rejected: int = 0
    evicted: int = 0
    reconciled: int = 0
    # Rows given back to a server restored from a backup (it had lost them or an older version).
    given_back: int = 0

    def __str__(self) -> str:
        text = (
            f"pushed {self.pushed}, pulled {self.pulled}, conflicts {self.conflicts}, "
            f"rejected {self.rejected}"
        )
        if self.given_back:
            text += f"; the server had been restored from a backup: gave back {self.given_back} row(s)"
        return text


class _Restart(Exception):
    """The server went back in time (a restore), changed its epoch, or forgot us: give back what
    it lacks, re-register and start over."""


class _Interrupted(Exception):
    """A snapshot stream ended early: resume from the last batch kept."""


class _Writer:
    """One background thread that commits snapshot batches in order, at most two queued."""

    def __init__(self, depth: int = 2) -> None:
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="rapport-snapshot-writer")
        self.pending: deque[Future[None]] = deque()
        self.depth = depth

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        while len(self.pending) >= self.depth:
            self.pending.popleft().result()  # a failed write (disk full...) surfaces here
        self.pending.append(self.pool.submit(fn, *args))

    def drain(self) -> None:
        while self.pending:
            self.pending.popleft().result()

    def close(self) -> None:
        """Wait for what is queued. Called while another error is on its way out: a write error
        here is logged, not raised over it (the next attempt meets it again if it persists)."""
        self.pool.shutdown(wait=True)
        for future in self.pending:
            if future.exception() is not None:
                log.warning("a snapshot batch was not written: %r", future.exception())
        self.pending.clear()


class _CursorLost(Exception):
    """The server cannot continue from our cursor (tombstones collected, territory changed)."""


def _headers(token: str | None) -> dict[str, str]:
    headers = {PROTOCOL_HEADER: str(PROTOCOL), SCHEMA_HEADER: head_revision()}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _error_detail(resp: httpx.Response) -> tuple[str, str]:
    try:
        body = resp.json()
        return str(body.get("detail", resp.text)), str(body.get("reason", ""))
    except (ValueError, AttributeError):
        return resp.text[:200], ""


TRANSIENT = (502, 503, 504)
# A server that takes the connection and then says nothing must not hold "Syncing…" for
# minutes: give up on one request after this long (a timeout is not retried: the next sync is).
TIMEOUT = httpx.Timeout(20.0, connect=5.0)


def _refuse(resp: httpx.Response) -> None:
    """Raise the errors no retry can fix: login, protocol versions."""
    if resp.status_code == 401:
        raise AuthRejected(
            "The server did not accept your login (wrong password, or the token was revoked "
            "or expired). Log in again with `rapport login`."
        )
    if resp.status_code == 426:
        raise VersionMismatch(
            "This version of Rapport is too old for the server. Please update Rapport; "
            "your unsynced changes are kept."
        )
    if resp.status_code == 400 and _error_detail(resp)[1] == "server_too_old":
        raise VersionMismatch(
            "The sync server is older than this version of Rapport: ask for it to be updated."
        )


class Http:
    """JSON over an httpx client with retries for transient failures (safe: see module doc)."""

    def __init__(
        self,
        server: str,
        token: str | None,
        transport: httpx.BaseTransport | None = None,
        *,
        timeout: httpx.Timeout = TIMEOUT,
        retries: int = 6,
        backoff: float = 0.2,
        cancel: threading.Event | None = None,
    ) -> None:
        self.client = httpx.Client(
            base_url=server.rstrip("/"), transport=transport, timeout=timeout, headers=_headers(token)
        )
        self.server = server
        self.retries = retries
        self.backoff = backoff
        self.cancel = cancel
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        if cancel is not None:
            # Cancel must not wait for a silent server: shutting the socket down wakes the read
            # at once (the request then fails and the caller sees Cancelled).
            threading.Thread(target=self._watch_cancel, name="rapport-sync-cancel", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        self.client.close()

    def _watch_cancel(self) -> None:
        assert self.cancel is not None
        while not self._closed.is_set():
            if self.cancel.wait(0.1):
                for sock in list(self._sockets):
                    with contextlib.suppress(OSError):  # already closed: nothing waits on it
                        sock.shutdown(socket.SHUT_RDWR)
                return

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore reports each new connection; keep its socket so Cancel can cut it."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            sock = info["return_value"].get_extra_info("socket")
            if isinstance(sock, socket.socket):
                self._sockets.append(sock)

    def post(self, path: str, payload: dict[str, Any], ok: tuple[int, ...] = (200,)) -> httpx.Response:
        raw = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if len(raw) > GZIP_OVER:
            raw = gzip.compress(raw, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        return self._send("POST", path, raw, headers, ok)

    def get(self, path: str) -> httpx.Response:
        return self._send("GET", path, None, {}, (200,))

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], ok: tuple[int, ...]
    ) -> httpx.Response:
        last: str = ""
        for attempt in range(self.retries + 1):
            if self.cancel is not None and self.cancel.is_set():
                raise Cancelled()
            if attempt:
                delay = min(self.backoff * attempt, 2.0)
                if self.cancel is None:
                    time.sleep(delay)
                elif self.cancel.wait(delay):  # Cancel during the pause: no need to sit it out
                    raise Cancelled()
            try:
                resp = self.client.request(
                    method, API + path, content=body, headers=headers, extensions={"trace": self._trace}
                )
            except httpx.TimeoutException as exc:
                raise self.unreachable(f"no answer within {_seconds(exc)}") from exc
            except httpx.TransportError as exc:
                if self.cancel is not None and self.cancel.is_set():
                    raise Cancelled() from exc
                last = f"{type(exc).__name__}: {exc}"
                continue
            if resp.status_code in TRANSIENT:
                last = f"HTTP {resp.status_code}"
                continue
            _refuse(resp)
            return resp
        raise self.unreachable(last)

    def unreachable(self, why: str) -> ServerUnreachable:
        return ServerUnreachable(
            f"Cannot reach the sync server at {self.server} ({why}). Your changes are kept and "
            "will sync next time."
        )

    @contextmanager
    def stream(self, path: str, payload: dict[str, Any]) -> Iterator[httpx.Response]:
        """POST and hand over the response unread (a snapshot is too big to hold in memory).

        No retries here: a stream cut half-way is resumed by the caller from what it kept.
        A transient refusal raises ``httpx.TransportError`` like a cut connection.
        """
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()
        raw = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        with self.client.stream(
            "POST", API + path, content=raw, headers=headers, extensions={"trace": self._trace}
        ) as resp:
            if resp.status_code != 200:
                resp.read()
            if resp.status_code in TRANSIENT:
                raise httpx.TransportError(f"HTTP {resp.status_code}")
            _refuse(resp)
            yield resp


def _wire(m: Mutation) -> dict[str, Any]:
    """A mutation as the push body holds it. Not ``model_dump``: pydantic will not serialise a
    value nested a few hundred levels deep (and writes NaN as null), and one such value saved by
    an older build would stop every sync of this laptop; the server refuses that one change."""
    return {
        "mid": m.mid,
        "entity": m.entity,
        "row_id": str(m.row_id),
        "op": m.op,
        "patch": m.patch,
        "base": m.base,
    }


def _seconds(exc: httpx.TimeoutException) -> str:
    timeouts = exc.request.extensions.get("timeout", {}) if exc.request is not None else {}
    key = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
    limit = timeouts.get(key)
    if not isinstance(limit, int | float):
        return "the time allowed"
    return f"{limit:g} second" + ("" if limit == 1 else "s")


def login(
    server: str,
    username: str,
    password: str,
    transport: httpx.BaseTransport | None = None,
    cancel: threading.Event | None = None,
) -> LoginResponse:
    http = Http(server, None, transport, retries=2, cancel=cancel)
    try:
        resp = http.post("/login", {"username": username, "password": password})
        if resp.status_code != 200:
            raise SyncFailed(f"Login failed: {_error_detail(resp)[0]}")
        return LoginResponse.model_validate(resp.json())
    finally:
        http.close()


class SyncClient:
    def __init__(
        self,
        db: Database,
        server: str,
        token: str,
        transport: httpx.BaseTransport | None = None,
        *,
        batch_size: int = 200,
        page_size: int = 2000,
        snapshot_batch: int = SNAPSHOT_BATCH,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        retries: int = 6,
        backoff: float = 0.2,
        lock_wait: float = 5.0,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self.store = SyncStore(db)
        self.lock_wait = lock_wait
        self.http = Http(
            server, token, transport, retries=retries, backoff=backoff, cancel=cancel, timeout=timeout
        )
        self.batch_size = batch_size
        self.page_size = page_size
        self.snapshot_batch = snapshot_batch
        self.progress = progress or (lambda _phase, _done, _total: None)
        self.cancel = cancel

    def close(self) -> None:
        self.http.close()
        self.store.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    # -- registration --------------------------------------------------------------------
    def _register(self, *, new_epoch: bool) -> None:
        with self.store.tx() as s:
            self.store.assign_mids(s)
            pending = self.store.pending(s, 1)
            first_mid = pending[0].mid if pending else int(self.store.get(s, K_NEXT_MID, 1))
        resp = self.http.post("/register", {"first_mid": first_mid})
        if resp.status_code != 200:
            raise SyncFailed(f"The server refused to register this laptop: {_error_detail(resp)[0]}")
        reg = RegisterResponse.model_validate(resp.json())
        with self.store.tx() as s:
            known_epoch = self.store.get(s, K_EPOCH)
            if new_epoch or (known_epoch is not None and known_epoch != reg.epoch):
                self.store.reset_for_epoch(s, reg.client_id, reg.epoch, first_mid)
            else:
                self.store.put(s, K_CLIENT, str(reg.client_id))
                self.store.put(s, K_EPOCH, reg.epoch)

    def _recover(self, summary: SyncSummary) -> None:
        """Invariant 7: the server lost some of the history this laptop saw. Ask where the two
        histories part, queue every row held at a later version to be given back (ahead of the
        outbox), then re-register; the retried sync pushes them and downloads the server's state."""
        with self.store.tx() as s:
            generations = self.store.generations(s)
        resp = self.http.post("/restore-point", {"generations": generations})
        if resp.status_code != 200:
            raise SyncFailed(f"The server could not say what it lost (HTTP {resp.status_code}).")
        point = RestorePointResponse.model_validate(resp.json())
        with self.store.tx() as s:
            given = self.store.give_back(s, point.fork)
        summary.given_back += given
        if given:
            log.warning(
                "the sync server lost changes after version %d: giving back %d row(s)", point.fork, given
            )
        self._register(new_epoch=True)

    # -- the whole sync ------------------------------------------------------------------
    def sync(self) -> SyncSummary:
        """One sync; another one of the same database (another process, the GUI's timer) is
        waited for up to ``lock_wait`` seconds, then refused in words (``SyncBusy``)."""
        if self.store.state(SAMPLE_KEY):  # checked before anything reaches the server
            raise SampleDataNotSynced(
                "This is the sample database: it is never synced, so nothing in it reaches your "
                "team. Go back to your own records to sync."
            )
        with self.store.tx() as s:
            pushing = self.store.pending_count(s) > 0
        if pushing:
            # Before the lock file is made: a refused file keeps its folder as it was.
            check_integrity(self.store.db)
        with sync_lock(self.store.db.path, wait=self.lock_wait, cancel=self.cancel):
            return self._sync()

    def _sync(self) -> SyncSummary:
        summary = SyncSummary()
        if self.store.state(K_CLIENT) is None:
            self._register(new_epoch=False)
        for _attempt in range(3):
            try:
                self._push(summary)
                self._pull(summary)
                if self.store.state(K_RECONCILE):
                    self._reconcile(summary)
                return summary
            except _Restart:
                self._recover(summary)
        raise SyncFailed("The sync server keeps changing its state; try again later.")

    # -- push ----------------------------------------------------------------------------
    def _mutation(self, s: Any, p: Pending) -> Mutation:
        base = p.before
        if p.op == "delete" and GIVE_BACK not in base:
            # What the rep last saw: a delete of a row edited since is reported by the server.
            base = {"_version": self.store.seen_version(s, p.entity, p.row_id)}
        return Mutation(
            mid=p.mid,
            entity=p.entity,
            row_id=p.row_id,
            op=p.op,  # type: ignore[arg-type]
            patch=p.patch if p.op in ("create", "update") else {},
            base=base,
        )

    def _push(self, summary: SyncSummary) -> None:
        batch_size = self.batch_size
        gap_retries = 0
        skip: int | None = None  # the id of a change too large to send at all
        while True:
            self._check_cancel()
            with self.store.tx() as s:
                self.store.assign_mids(s)
                batch = self.store.pending(s, 1 if skip is not None else batch_size)
                total = self.store.pending_count(s)
                mutations = [_wire(self._mutation(s, p)) for p in batch]
                client_id, epoch = self.store.get(s, K_CLIENT), self.store.get(s, K_EPOCH)
                cursor = self.store.get(s, K_CURSOR)
            if not batch:
                return
            skipping = skip is not None and batch[0].mid == skip
            if skipping:
                # Its id is spent, never given to a later change: the server may hold it (an
                # answer lost before the limit was lowered). The skip asks: the server answers
                # with the stored result if it has the id, and records it as refused if not.
                mutations = [{**mutations[0], "op": "skip", "patch": {}, "base": {}}]
            self.progress("push", summary.pushed, summary.pushed + total)
            body = {"client_id": client_id, "epoch": epoch, "cursor": cursor, "mutations": mutations}
            resp = self.http.post("/push", body)
            if resp.status_code == 413:
                if skipping:
                    raise SyncFailed("The server refuses even the smallest request as too large.")
                if batch_size > 1:
                    batch_size = max(1, batch_size // 2)
                else:
                    skip = batch[0].mid
                continue
            detail, reason = _error_detail(resp)
            if resp.status_code == 409 and reason == "mid_gap":
                expected = int(resp.json().get("expected_mid", 0))
                if expected == batch[0].mid and gap_retries < 3:
                    gap_retries += 1  # a mutation was lost on the way: send again from there
                    continue
                raise _Restart()  # the server forgot mutations it had acknowledged
            if resp.status_code in (404, 410) and reason in (
                "unknown_client",
                "epoch_changed",
                "server_restored",
            ):
                raise _Restart()
            if resp.status_code != 200:
                raise SyncFailed(f"The server refused the changes (HTTP {resp.status_code}): {detail}")
            result = PushResponse.model_validate(resp.json())
            with self.store.tx() as s:
                summary.rejected += self.store.acknowledge(s, batch, result.results)
            summary.pushed += len(batch)
            skip = None
            batch_size = min(self.batch_size, batch_size * 2)

    # -- pull ----------------------------------------------------------------------------
    def _pull(self, summary: SyncSummary) -> None:
        while True:
            # A first pull (a new laptop, after an epoch change, after the cursor was lost) brings
            # every row: the search index and last-contact dates are rebuilt once at the end, not
            # row by row (models/bulk.py). If the pull fails the rebuild still runs; if the
            # process dies, the next open_database finishes it.
            with self.store.tx() as s:
                fresh = self.store.cursor(s) is None
                if fresh:
                    suspend_derived(s.connection())
            try:
                if fresh:
                    self._bootstrap(summary)
                self._pull_pages(summary)
                return
            except _CursorLost:
                continue
            finally:
                if fresh:
                    with self.store.tx() as s:
                        restore_derived(s.connection())
                    self.store.checkpoint()

    # -- bootstrap -------------------------------------------------------------------------
    def _bootstrap(self, summary: SyncSummary) -> None:
        """Load the server's snapshot (invariant 10), resuming after a cut from the last batch kept.

        Ends with the cursor at the snapshot's upper bound; the paged pull takes it from there.
        """
        # Hundreds of thousands of short-lived dicts would set off the cycle collector over and
        # over (a second of a first sync); nothing here makes reference cycles.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._bootstrap_attempts(summary)
        finally:
            if collecting:
                gc.enable()

    def _bootstrap_attempts(self, summary: SyncSummary) -> None:
        failures = 0
        while True:
            self._check_cancel()
            with self.store.tx() as s:
                progress = self.store.get(s, K_SNAPSHOT)
                req = SnapshotRequest(
                    client_id=self.store.get(s, K_CLIENT),
                    epoch=self.store.get(s, K_EPOCH),
                    upper=progress["upper"] if progress else None,
                    after=SnapshotPosition(scope=progress["scope"], version=progress["version"])
                    if progress
                    else None,
                    generation=progress.get("generation") if progress else None,
                )
            kept = 0
            try:
                with self.http.stream("/snapshot", req.model_dump(mode="json")) as resp:
                    detail, reason = ("", "") if resp.status_code == 200 else _error_detail(resp)
                    if resp.status_code == 410 and reason in ("epoch_changed", "server_restored"):
                        raise _Restart()
                    if resp.status_code != 200:
                        raise SyncFailed(
                            f"The server refused to send your data (HTTP {resp.status_code}): {detail}"
                        )
                    for rows in self._load_snapshot(resp, progress, summary):
                        kept += rows
                        failures = 0  # progress made: a flaky line gets as many tries as it needs
                return
            except (httpx.TransportError, httpx.DecodingError, _Interrupted) as exc:
                self._check_cancel()  # Cancel cut the stream: stop, what was kept stays
                failures += 1
                if failures > self.http.retries:
                    raise self.http.unreachable(f"{type(exc).__name__}: {exc}") from exc
                log.info("snapshot cut after %d more rows (%s): resuming", kept, exc)
                time.sleep(min(self.http.backoff * failures, 2.0))

    def _load_snapshot(
        self, resp: httpx.Response, progress: dict[str, Any] | None, summary: SyncSummary
    ) -> Iterator[int]:
        """Apply the stream in batches, each committed with the position reached; yields rows kept.

        Returns normally only after the end line, with the cursor set; a stream that stops
        before it raises ``_Interrupted`` (what was committed stays). Batches are written on a
        second thread while the next one is parsed (SQLite's own work runs without the GIL).
        """
        with self.store.tx() as s:
            loader = SnapshotLoader(self.store, s)
        header: SnapshotHeader | None = None
        batch: list[dict[str, Any]] = []
        conflicts: list[ConflictRecord] = []
        rest = b""
        writer = _Writer()
        try:
            for chunk in resp.iter_bytes():
                *lines, rest = (rest + chunk).split(b"\n")
                for line in lines:
                    if line.startswith(b'{"s":'):
                        batch.append(orjson.loads(line))
                        if len(batch) >= self.snapshot_batch:
                            progress = self._queue_batch(writer, loader, batch, progress, summary)
                            yield len(batch)
                            batch = []
                        continue
                    item = orjson.loads(line)
                    if "header" in item:
                        header = SnapshotHeader.model_validate(item["header"])
                        progress = self._start_snapshot(header, progress)
                    elif "conflict" in item:
                        conflicts.append(ConflictRecord.model_validate(item["conflict"]))
                    elif "end" in item:
                        SnapshotEnd.model_validate(item["end"])
                        if header is None or progress is None:
                            raise SyncFailed("The server sent a snapshot without a header.")
                        writer.drain()
                        self._finish_snapshot(loader, batch, conflicts, header, summary)
                        self.progress("download", int(progress["done"]) + len(batch), header.total)
                        yield len(batch)
                        return
            raise _Interrupted("the snapshot stopped before its end")
        finally:
            writer.close()  # after a cut, the batches already converted are still written

    def _start_snapshot(self, header: SnapshotHeader, progress: dict[str, Any] | None) -> dict[str, Any]:
        with self.store.tx() as s:
            if header.epoch != self.store.get(s, K_EPOCH):
                raise _Restart()
            self.store.saw_generation(s, header.generation)
            if progress is None:
                progress = {"epoch": header.epoch, "upper": header.upper, "scopes": header.scopes}
                progress |= {"scope": "", "version": 0, "done": 0, "generation": header.generation}
            elif progress["scopes"] != header.scopes:
                # The territory changed half-way: rows loaded from a scope we lost must go.
                self.store.put(s, K_RECONCILE, True)
            progress = {**progress, "total": header.total}
        self.progress("download", int(progress["done"]), header.total)
        return progress

    def _queue_batch(
        self,
        writer: _Writer,
        loader: SnapshotLoader,
        batch: list[dict[str, Any]],
        progress: dict[str, Any] | None,
        summary: SyncSummary,
    ) -> dict[str, Any]:
        if progress is None:
            raise SyncFailed("The server sent snapshot rows before its header.")
        self._check_cancel()
        try:
            prepared = loader.prepare(batch)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SyncFailed(f"The server sent a malformed row ({type(exc).__name__}: {exc}).") from exc
        scope, version = prepared.last
        done = int(progress["done"]) + len(batch)
        progress = {**progress, "scope": scope, "version": version, "done": done}
        writer.submit(self._write_batch, loader, prepared, progress, summary)
        return progress

    def _write_batch(
        self, loader: SnapshotLoader, prepared: Prepared, progress: dict[str, Any], summary: SyncSummary
    ) -> None:
        self._check_cancel()  # Cancel pressed while this batch waited: it is not kept
        with self.store.tx() as s:
            # One checkpoint after the whole load (in _pull) instead of one per batch: the WAL
            # is copied into the database once, a fifth less wall time for the inserts.
            s.connection().exec_driver_sql("PRAGMA wal_autocheckpoint = 0")
            summary.pulled += loader.write(s, prepared)
            self.store.put(s, K_SNAPSHOT, progress)
        self.progress("download", int(progress["done"]), progress.get("total"))

    def _finish_snapshot(
        self,
        loader: SnapshotLoader,
        batch: list[dict[str, Any]],
        conflicts: list[ConflictRecord],
        header: SnapshotHeader,
        summary: SyncSummary,
    ) -> None:
        counts = PageCounts()
        with self.store.tx() as s:
            if batch:
                summary.pulled += loader.load(s, batch)
            self.store.apply_conflicts(s, conflicts, counts, complete=True)
            self.store.advance(
                s, Cursor(epoch=header.epoch, version=header.upper, generation=header.generation)
            )
            self.store.put(s, K_SNAPSHOT, None)
        summary.conflicts += counts.conflicts

    # -- paged pull ----------------------------------------------------------------------
    def _pull_pages(self, summary: SyncSummary) -> None:
        upper: int | None = None
        while True:
            self._check_cancel()
            with self.store.tx() as s:
                cursor = self.store.cursor(s)
                client_id = self.store.get(s, K_CLIENT)
                acked = self.store.get(s, K_ACKED)
            req = PullRequest(
                client_id=client_id, cursor=cursor, upper=upper, limit=self.page_size, acked_mid=acked
            )
            resp = self.http.post("/pull", req.model_dump(mode="json"))
            detail, reason = _error_detail(resp)
            if resp.status_code == 410 and reason in ("epoch_changed", "server_restored"):
                raise _Restart()
            if resp.status_code == 410 and reason in ("cursor_expired", "scope_changed"):
                with self.store.tx() as s:
                    self.store.put(s, K_CURSOR, None)
                    self.store.put(s, K_RECONCILE, True)
                raise _CursorLost()
            if resp.status_code != 200:
                raise SyncFailed(f"The server refused to send changes (HTTP {resp.status_code}): {detail}")
            page = PullResponse.model_validate(resp.json())
            with self.store.tx() as s:
                counts = self.store.apply_page(s, page)
            summary.pulled += counts.applied
            summary.conflicts += counts.conflicts
            summary.evicted += counts.evicted
            upper = page.upper
            self.progress("pull", page.cursor.version, page.upper)
            if not page.has_more:
                return

    def _reconcile(self, summary: SyncSummary) -> None:
        for entity in SYNCED_ENTITIES:
            self._check_cancel()
            resp = self.http.get(f"/ids/{entity}")
            if resp.status_code != 200:
                raise SyncFailed(f"The server refused the id list (HTTP {resp.status_code})")
            live = {uuid.UUID(i) for i in resp.json()["ids"]}
            with self.store.tx() as s:
                summary.reconciled += self.store.reconcile(s, entity, live)
        with self.store.tx() as s:
            self.store.put(s, K_RECONCILE, False)
