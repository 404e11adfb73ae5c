"""The sync client: push the outbox, then pull pages, over an injected HTTP transport.

One ``sync()`` is safe to interrupt anywhere: pushes are exactly-once on the server, every
pulled page commits with its cursor, so the next run resumes where this one stopped. No Qt
here: progress is a callback and cancellation a ``threading.Event``. The requests themselves
(retries, timeouts, Cancel) are ``sync.transport``'s; a first sync's download is
``sync.bootstrap``'s; the local bookkeeping is ``sync.store``'s.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from models.bulk import restore_derived, suspend_derived
from models.db import Database, check_integrity
from models.entities import SYNCED_CLASSES
from models.restore import RESTORED_KEY
from models.sample import SAMPLE_KEY
from sync.apply import PageCounts, apply_page
from sync.bootstrap import SNAPSHOT_BATCH, Bootstrap, Progress
from sync.errors import SampleDataNotSynced, ServerWentBack, SyncFailed
from sync.lock import sync_lock
from sync.protocol import (
    GIVE_BACK,
    LoginResponse,
    Mutation,
    PullRequest,
    PullResponse,
    PushResponse,
    RegisterResponse,
    RestorePointResponse,
)
from sync.recovery import give_back, reconcile, reset_for_epoch
from sync.store import (
    K_ACKED,
    K_CLIENT,
    K_CURSOR,
    K_EPOCH,
    K_NEXT_MID,
    K_RECONCILE,
    Pending,
    SyncStore,
)
from sync.transport import TIMEOUT, Http, error_detail

log = logging.getLogger(__name__)
SYNCED_ENTITIES = tuple(cls.__entity__ for cls in SYNCED_CLASSES)


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


class _CursorLost(Exception):
    """The server cannot continue from our cursor (tombstones collected, territory changed)."""


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
            raise SyncFailed(f"Login failed: {error_detail(resp)[0]}")
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

    # -- registration --------------------------------------------------------------------
    def _register(self, *, new_epoch: bool) -> None:
        with self.store.tx() as s:
            self.store.assign_mids(s)
            pending = self.store.pending(s, 1)
            first_mid = pending[0].mid if pending else int(self.store.get(s, K_NEXT_MID, 1))
        resp = self.http.post("/register", {"first_mid": first_mid})
        if resp.status_code != 200:
            raise SyncFailed(f"The server refused to register this laptop: {error_detail(resp)[0]}")
        reg = RegisterResponse.model_validate(resp.json())
        with self.store.tx() as s:
            known_epoch = self.store.get(s, K_EPOCH)
            if new_epoch or (known_epoch is not None and known_epoch != reg.epoch):
                reset_for_epoch(s, reg.client_id, reg.epoch, first_mid)
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
            given = give_back(s, point.fork)
        summary.given_back += given
        if given:
            log.warning(
                "the sync server lost changes after version %d: giving back %d row(s)", point.fork, given
            )
        self._register(new_epoch=True)
        with self.store.tx() as s:  # re-registered and renumbered: nothing left to settle
            self.store.put(s, RESTORED_KEY, None)

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
        for _attempt in range(3):
            try:
                self._settle_restored(summary)
                if self.store.state(K_CLIENT) is None:
                    self._register(new_epoch=False)
                self._push(summary)
                self._pull(summary)
                if self.store.state(K_RECONCILE):
                    self._reconcile(summary)
                return summary
            except ServerWentBack:
                self._recover(summary)
        raise SyncFailed("The sync server keeps changing its state; try again later.")

    def _settle_restored(self, summary: SyncSummary) -> None:
        """This laptop was restored from a backup (``models.restore``): the mirror of a server
        restored from one. The server is ahead, and the pull from the backup's cursor brings
        back what was synced since. What the backup still had to send may or may not have
        reached the server after the backup was made, so it goes first, under the old
        registration and with the mutation ids it would have had then: ids the server saw get
        their stored answer and change nothing (no edit applied twice, no stale value written
        over a newer one), the others apply. Ids after those were spent after the backup, on
        changes this file never held; so the laptop registers afresh (a new client id numbers
        its changes anew) before anything newer is sent."""
        with self.store.tx() as s:
            mark = self.store.get(s, RESTORED_KEY)
            registered = self.store.get(s, K_CLIENT) is not None
            through = int(mark.get("outbox_through", 0)) if isinstance(mark, dict) else 0
            if mark and registered:
                self.store.assign_mids(s, through_seq=through)
        if not mark:
            return
        if registered:
            self._push(summary, through_seq=through)
            self._register(new_epoch=False)
        with self.store.tx() as s:
            self.store.put(s, RESTORED_KEY, None)

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

    def _push(self, summary: SyncSummary, through_seq: int | None = None) -> None:
        """Push the outbox (with ``through_seq``: only the entries up to it, already numbered)."""
        batch_size = self.batch_size
        gap_retries = 0
        skip: int | None = None  # the id of a change too large to send at all
        while True:
            self.http.check_cancel()
            with self.store.tx() as s:
                if through_seq is None:
                    self.store.assign_mids(s)
                batch = self.store.pending(s, 1 if skip is not None else batch_size, through_seq)
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
            detail, reason = error_detail(resp)
            if resp.status_code == 409 and reason == "mid_gap":
                expected = int(resp.json().get("expected_mid", 0))
                if expected == batch[0].mid and gap_retries < 3:
                    gap_retries += 1  # a mutation was lost on the way: send again from there
                    continue
                raise ServerWentBack()  # the server forgot mutations it had acknowledged
            if resp.status_code in (404, 410) and reason in (
                "unknown_client",
                "epoch_changed",
                "server_restored",
            ):
                raise ServerWentBack()
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
                    self._download(summary)
                self._pull_pages(summary)
                return
            except _CursorLost:
                continue
            finally:
                if fresh:
                    with self.store.tx() as s:
                        restore_derived(s.connection())
                    self.store.checkpoint()

    def _download(self, summary: SyncSummary) -> None:
        """The first-sync download (``sync.bootstrap``); ends with the cursor at the snapshot's
        upper bound, and the paged pull takes it from there."""
        counts = PageCounts()
        try:
            Bootstrap(self.store, self.http, self.progress, batch=self.snapshot_batch).run(counts)
        finally:  # rows kept before a restart count in the sync's summary
            summary.pulled += counts.applied
            summary.conflicts += counts.conflicts

    # -- paged pull ----------------------------------------------------------------------
    def _pull_pages(self, summary: SyncSummary) -> None:
        upper: int | None = None
        while True:
            self.http.check_cancel()
            with self.store.tx() as s:
                cursor = self.store.cursor(s)
                client_id = self.store.get(s, K_CLIENT)
                acked = self.store.get(s, K_ACKED)
            req = PullRequest(
                client_id=client_id, cursor=cursor, upper=upper, limit=self.page_size, acked_mid=acked
            )
            resp = self.http.post("/pull", req.model_dump(mode="json"))
            detail, reason = error_detail(resp)
            if resp.status_code == 410 and reason in ("epoch_changed", "server_restored"):
                raise ServerWentBack()
            if resp.status_code == 410 and reason in ("cursor_expired", "scope_changed"):
                with self.store.tx() as s:
                    self.store.put(s, K_CURSOR, None)
                    self.store.put(s, K_RECONCILE, True)
                raise _CursorLost()
            if resp.status_code != 200:
                raise SyncFailed(f"The server refused to send changes (HTTP {resp.status_code}): {detail}")
            page = PullResponse.model_validate(resp.json())
            with self.store.tx() as s:
                counts = apply_page(s, page)
            summary.pulled += counts.applied
            summary.conflicts += counts.conflicts
            summary.evicted += counts.evicted
            upper = page.upper
            self.progress("pull", page.cursor.version, page.upper)
            if not page.has_more:
                return

    def _reconcile(self, summary: SyncSummary) -> None:
        for entity in SYNCED_ENTITIES:
            self.http.check_cancel()
            resp = self.http.get(f"/ids/{entity}")
            if resp.status_code != 200:
                raise SyncFailed(f"The server refused the id list (HTTP {resp.status_code})")
            live = {uuid.UUID(i) for i in resp.json()["ids"]}
            with self.store.tx() as s:
                summary.reconciled += reconcile(s, entity, live)
        with self.store.tx() as s:
            self.store.put(s, K_RECONCILE, False)
