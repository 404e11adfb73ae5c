"""The first sync's download: the server's snapshot stream into the local database (invariant 10).

A new laptop (or one whose cursor was lost) loads a bulk snapshot rather than replaying history
change by change. The stream is read line by line; rows are converted (``sync.snapshot``) and
committed in batches on a second thread, each batch with the position it reached, so a cut
stream resumes from the last batch kept. It ends with the cursor at the snapshot's upper bound;
the paged pull (``sync.client``) takes it from there.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import orjson

from sync.apply import PageCounts, apply_conflicts
from sync.errors import ServerWentBack, SyncFailed
from sync.protocol import (
    ConflictRecord,
    Cursor,
    SnapshotEnd,
    SnapshotHeader,
    SnapshotPosition,
    SnapshotRequest,
)
from sync.snapshot import Prepared, SnapshotLoader
from sync.store import K_CLIENT, K_EPOCH, K_RECONCILE, K_SNAPSHOT, SyncStore
from sync.transport import Http, error_detail

log = logging.getLogger(__name__)
# (phase, done, total): "download", "push", "pull"; the total may be unknown.
Progress = Callable[[str, int, int | None], None]
SNAPSHOT_BATCH = 25_000  # rows per transaction while loading a snapshot (fewer commits: less WAL)


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


class Bootstrap:
    """One first-sync download. ``run`` adds the rows it applies and the conflict records it
    stores to ``counts`` as it goes (also when it fails half-way, for the sync's summary)."""

    def __init__(
        self, store: SyncStore, http: Http, progress: Progress, *, batch: int = SNAPSHOT_BATCH
    ) -> None:
        self.store = store
        self.http = http
        self.progress = progress
        self.batch = batch

    def run(self, counts: PageCounts) -> None:
        """Load the server's snapshot, resuming after a cut from the last batch kept."""
        # Hundreds of thousands of short-lived dicts would set off the cycle collector over and
        # over (a second of a first sync); nothing here makes reference cycles.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._attempts(counts)
        finally:
            if collecting:
                gc.enable()

    def _attempts(self, counts: PageCounts) -> None:
        failures = 0
        while True:
            self.http.check_cancel()
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
                    detail, reason = ("", "") if resp.status_code == 200 else error_detail(resp)
                    if resp.status_code == 410 and reason in ("epoch_changed", "server_restored"):
                        raise ServerWentBack()
                    if resp.status_code != 200:
                        raise SyncFailed(
                            f"The server refused to send your data (HTTP {resp.status_code}): {detail}"
                        )
                    for rows in self._load(resp, progress, counts):
                        kept += rows
                        failures = 0  # progress made: a flaky line gets as many tries as it needs
                return
            except (httpx.TransportError, httpx.DecodingError, _Interrupted) as exc:
                self.http.check_cancel()  # Cancel cut the stream: stop, what was kept stays
                failures += 1
                if failures > self.http.retries:
                    raise self.http.unreachable(f"{type(exc).__name__}: {exc}") from exc
                log.info("snapshot cut after %d more rows (%s): resuming", kept, exc)
                time.sleep(min(self.http.backoff * failures, 2.0))

    def _load(
        self, resp: httpx.Response, progress: dict[str, Any] | None, counts: PageCounts
    ) -> Iterator[int]:
        """Apply the stream in batches, each committed with the position reached; yields rows kept.

        Returns normally only after the end line, with the cursor set; a stream that stops
        before it raises ``_Interrupted`` (what was committed stays). Batches are written on a
        second thread while the next one is parsed (SQLite's own work runs without the GIL).
        """
        with self.store.tx() as s:
            loader = SnapshotLoader(s)
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
                        if len(batch) >= self.batch:
                            progress = self._queue_batch(writer, loader, batch, progress, counts)
                            yield len(batch)
                            batch = []
                        continue
                    item = orjson.loads(line)
                    if "header" in item:
                        header = SnapshotHeader.model_validate(item["header"])
                        progress = self._start(header, progress)
                    elif "conflict" in item:
                        conflicts.append(ConflictRecord.model_validate(item["conflict"]))
                    elif "end" in item:
                        SnapshotEnd.model_validate(item["end"])
                        if header is None or progress is None:
                            raise SyncFailed("The server sent a snapshot without a header.")
                        writer.drain()
                        self._finish(loader, batch, conflicts, header, counts)
                        self.progress("download", int(progress["done"]) + len(batch), header.total)
                        yield len(batch)
                        return
            raise _Interrupted("the snapshot stopped before its end")
        finally:
            writer.close()  # after a cut, the batches already converted are still written

    def _start(self, header: SnapshotHeader, progress: dict[str, Any] | None) -> dict[str, Any]:
        with self.store.tx() as s:
            if header.epoch != self.store.get(s, K_EPOCH):
                raise ServerWentBack()
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
        counts: PageCounts,
    ) -> dict[str, Any]:
        if progress is None:
            raise SyncFailed("The server sent snapshot rows before its header.")
        self.http.check_cancel()
        try:
            prepared = loader.prepare(batch)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SyncFailed(f"The server sent a malformed row ({type(exc).__name__}: {exc}).") from exc
        scope, version = prepared.last
        done = int(progress["done"]) + len(batch)
        progress = {**progress, "scope": scope, "version": version, "done": done}
        writer.submit(self._write_batch, loader, prepared, progress, counts)
        return progress

    def _write_batch(
        self, loader: SnapshotLoader, prepared: Prepared, progress: dict[str, Any], counts: PageCounts
    ) -> None:
        self.http.check_cancel()  # Cancel pressed while this batch waited: it is not kept
        with self.store.tx() as s:
            # One checkpoint after the whole load (in the client's pull) instead of one per
            # batch: the WAL is copied into the database once, a fifth less wall time.
            s.connection().exec_driver_sql("PRAGMA wal_autocheckpoint = 0")
            counts.applied += loader.write(s, prepared)
            self.store.put(s, K_SNAPSHOT, progress)
        self.progress("download", int(progress["done"]), progress.get("total"))

    def _finish(
        self,
        loader: SnapshotLoader,
        batch: list[dict[str, Any]],
        conflicts: list[ConflictRecord],
        header: SnapshotHeader,
        counts: PageCounts,
    ) -> None:
        with self.store.tx() as s:
            if batch:
                counts.applied += loader.load(s, batch)
            apply_conflicts(s, conflicts, counts, complete=True)
            self.store.advance(
                s, Cursor(epoch=header.epoch, version=header.upper, generation=header.generation)
            )
            self.store.put(s, K_SNAPSHOT, None)
