"""Limits on password checks, so bad logins can neither exhaust the server nor guess for long.

An argon2 check with the library's defaults takes 64 MiB of memory and tens of milliseconds of
CPU: 16 bad logins at once took a server from 92 MB to 963 MB. So:

- per server process, at most ``HASH_SLOTS`` checks run at once (the rest wait their turn
  without holding a thread); when ``HASH_QUEUE`` more are already waiting, a login is answered
  503 with ``Retry-After`` at once (memory and CPU are the process's own, so is this limit);
- failures are counted per user name and per client address (``FailureCounts``): past a few
  free failures each further attempt must wait, twice as long each time up to a cap, and is
  answered 429 with ``Retry-After`` before any password is checked. A success clears its user
  name's count; counts are forgotten after ``FORGET_AFTER`` seconds without a failure.

The counts live in the database (``tables.login_failures``), so every server process behind a
load balancer sees the same ones: landing on another process gives a guesser no more tries. That
is one small write per attempt that gets as far as a password check; sign-ins are rare (a token
lasts 90 days) and refused attempts write nothing. Stale counts are deleted now and then, so the
table stays as small as the set of names and addresses that failed in the last ``FORGET_AFTER``.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import anyio
from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from sync.server import tables
from sync.server.db import ServerDB

# Two checks at once: 128 MiB at most, and two checks keep this process's share of the CPU busy.
# At ~0.1 s a check that is 20 logins a second per process, far above what reps need (a token
# lasts 90 days).
HASH_SLOTS = 2
HASH_QUEUE = 32
# Per user name: 5 failures free, then 1 s, 2 s, 4 s ... at most 30 s between attempts: a guesser
# gets about 120 tries an hour per name, and a rep who mistypes, or whose name someone else is
# trying, waits at most 30 s.
NAME_FREE, NAME_MAX_DELAY = 5, 30.0
# Per address: 30 failures free (an office behind one address), then up to 60 s between attempts.
ADDRESS_FREE, ADDRESS_MAX_DELAY = 30, 60.0
FIRST_DELAY = 1.0
FORGET_AFTER = 15 * 60.0
PRUNE_EVERY = 100  # attempts of this process between deletions of forgotten counts


class LoginRefused(Exception):
    """Not checked at all: ``status`` 429 (too many failures) or 503 (too many checks waiting),
    try again after ``retry_after`` seconds."""

    def __init__(self, status: int, retry_after: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.retry_after = retry_after
        self.detail = detail


@dataclass(frozen=True)
class Policy:
    free: int
    max_delay: float

    def wait(self, failures: int, last_at: float, now: float) -> float:
        """Seconds before the next attempt after ``failures``, the last at ``last_at`` (0: now)."""
        if failures < self.free:
            return 0.0
        delay = min(self.max_delay, FIRST_DELAY * 2.0 ** min(failures - self.free, 30))
        return max(0.0, last_at + delay - now)


NAMES = Policy(NAME_FREE, NAME_MAX_DELAY)
ADDRESSES = Policy(ADDRESS_FREE, ADDRESS_MAX_DELAY)


class FailureCounts:
    """Failed attempts per user name and per address, in the database every process shares."""

    def __init__(self, db: ServerDB, clock: Callable[[], float] = time.time) -> None:
        # Wall-clock time, not monotonic: the processes may run on several hosts.
        self.db = db
        self.clock = clock
        self._attempts = itertools.count(1)

    @staticmethod
    def _keys(name: str, address: str) -> tuple[str, str]:
        return f"name:{name}", f"address:{address}"

    def admit(self, name: str, address: str) -> float:
        """Seconds the attempt must wait (nothing counted), or 0: admitted, and counted as a
        failure of both keys until ``succeeded`` or ``not_counted`` takes it back (so a burst of
        attempts at once is throttled too)."""
        t = tables.login_failures
        keys = self._keys(name, address)
        now = self.clock()
        with self.db.write() as conn:
            # FOR UPDATE: two processes admitting the same name at once count both attempts.
            found = {
                row.key: (int(row.failures), float(row.last_at))
                for row in conn.execute(
                    select(t.c.key, t.c.failures, t.c.last_at).where(t.c.key.in_(keys)).with_for_update()
                )
            }
            counts = {
                key: found[key] if key in found and now - found[key][1] <= FORGET_AFTER else (0, 0.0)
                for key in keys
            }
            wait = max(
                policy.wait(*counts[key], now) for policy, key in zip((NAMES, ADDRESSES), keys, strict=True)
            )
            if wait > 0:
                return wait
            for key in keys:
                self._count(conn, key, counts[key][0] + 1, now, exists=key in found)
            if next(self._attempts) % PRUNE_EVERY == 0:
                conn.execute(delete(t).where(t.c.last_at < now - FORGET_AFTER))
        return 0.0

    @staticmethod
    def _count(conn: Connection, key: str, failures: int, now: float, *, exists: bool) -> None:
        t = tables.login_failures
        if exists:
            conn.execute(update(t).where(t.c.key == key).values(failures=failures, last_at=now))
            return
        # No row to lock yet: another process may insert the same key meanwhile; then both count.
        upsert = pg_insert(t) if conn.dialect.name == "postgresql" else sqlite_insert(t)
        conn.execute(
            upsert.values(key=key, failures=failures, last_at=now).on_conflict_do_update(
                index_elements=[t.c.key], set_={"failures": t.c.failures + 1, "last_at": now}
            )
        )

    def forgive(self, name: str, address: str, *, all_of_name: bool) -> None:
        """Take back the attempt admitted for ``name`` and ``address``: every failure of the name
        (a success), or only this one (it was never checked)."""
        t = tables.login_failures
        name_key, address_key = self._keys(name, address)
        with self.db.write() as conn:
            if all_of_name:
                conn.execute(delete(t).where(t.c.key == name_key))
            keys = [address_key] if all_of_name else [name_key, address_key]
            conn.execute(
                update(t).where(t.c.key.in_(keys), t.c.failures > 0).values(failures=t.c.failures - 1)
            )
            conn.execute(delete(t).where(t.c.key.in_(keys), t.c.failures <= 0))


class LoginGate:
    """Admission for password checks: the failure counts, then a bounded number of checks at once."""

    def __init__(self, counts: FailureCounts, slots: int = HASH_SLOTS, queue: int = HASH_QUEUE) -> None:
        self.counts = counts
        self.slots = slots
        self.queue = queue
        self.hashing = anyio.CapacityLimiter(slots)
        self.checking = 0  # checks running or waiting for a slot (only touched on the event loop)

    @contextlib.asynccontextmanager
    async def attempt(self, name: str, address: str) -> AsyncIterator[Attempt]:
        """Admit one login attempt (``LoginRefused`` if it must wait). It counts as a failure from
        the start, so a burst of attempts at once is throttled too; ``Attempt.succeeded`` takes
        that back."""
        wait = await anyio.to_thread.run_sync(self.counts.admit, name, address)
        if wait > 0:
            raise LoginRefused(
                429,
                math.ceil(wait),
                f"Too many failed sign-ins: wait {math.ceil(wait)} seconds and try again.",
            )
        attempt = Attempt(self.counts, name, address)
        try:
            yield attempt
        except LoginRefused:
            await attempt.not_counted()  # never checked: not a failure of this user's
            raise

    async def check(self, verify: Callable[[], bool]) -> bool:
        """Run ``verify`` (an argon2 check) in a thread when a hashing slot is free."""
        if self.checking >= self.slots + self.queue:
            raise LoginRefused(503, 1, "The server is busy checking passwords: try again in a moment.")
        self.checking += 1
        try:
            return await anyio.to_thread.run_sync(verify, limiter=self.hashing)
        finally:
            self.checking -= 1


@dataclass
class Attempt:
    counts: FailureCounts
    name: str
    address: str

    async def succeeded(self) -> None:
        await anyio.to_thread.run_sync(lambda: self.counts.forgive(self.name, self.address, all_of_name=True))

    async def not_counted(self) -> None:
        await anyio.to_thread.run_sync(
            lambda: self.counts.forgive(self.name, self.address, all_of_name=False)
        )
