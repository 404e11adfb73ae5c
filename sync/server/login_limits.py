"""Limits on password checks, so bad logins can neither exhaust the server nor guess for long.

An argon2 check with the library's defaults takes 64 MiB of memory and tens of milliseconds of
CPU: 16 bad logins at once took a server from 92 MB to 963 MB. So, per server process:

- at most ``HASH_SLOTS`` checks run at once (the rest wait their turn without holding a
  thread); when ``HASH_QUEUE`` more are already waiting, a login is answered 503 with
  ``Retry-After`` at once;
- failures are counted per user name and per client address (``FailureThrottle``): past a few
  free failures each further attempt must wait, twice as long each time up to a cap, and is
  answered 429 with ``Retry-After`` before any password is checked. A success clears its user
  name's count; counts are forgotten after ``FORGET_AFTER`` seconds without a failure.

The state is in memory, per process (no database write per failed login: on SQLite that would
queue behind every push). With N server processes an attacker gets up to N times the attempts
(docs/sync.md). Memory is bounded: ``MAX_KEYS`` counters per kind, the oldest dropped first.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import anyio

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
MAX_KEYS = 100_000


class LoginRefused(Exception):
    """Not checked at all: ``status`` 429 (too many failures) or 503 (too many checks waiting),
    try again after ``retry_after`` seconds."""

    def __init__(self, status: int, retry_after: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.retry_after = retry_after
        self.detail = detail


@dataclass
class _Count:
    failures: int
    last: float


class FailureThrottle:
    """Failed attempts per key, and how long the next attempt must wait."""

    def __init__(
        self,
        free: int,
        max_delay: float,
        *,
        first_delay: float = FIRST_DELAY,
        forget_after: float = FORGET_AFTER,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.max_delay, self.first_delay = free, max_delay, first_delay
        self.forget_after, self.max_keys, self.clock = forget_after, max_keys, clock
        self._counts: OrderedDict[str, _Count] = OrderedDict()
        self._lock = threading.Lock()

    def _current(self, key: str, now: float) -> _Count | None:
        count = self._counts.get(key)
        if count is not None and now - count.last > self.forget_after:
            del self._counts[key]
            return None
        return count

    def wait(self, key: str) -> float:
        """Seconds before ``key`` may try again (0: now)."""
        with self._lock:
            now = self.clock()
            count = self._current(key, now)
            if count is None or count.failures < self.free:
                return 0.0
            delay = min(self.max_delay, self.first_delay * 2.0 ** min(count.failures - self.free, 30))
            return max(0.0, count.last + delay - now)

    def failed(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            count = self._current(key, now)
            if count is None:
                count = self._counts[key] = _Count(0, now)
                while len(self._counts) > self.max_keys:
                    self._counts.popitem(last=False)
            count.failures += 1
            count.last = now
            self._counts.move_to_end(key)

    def forgive(self, key: str, *, all_of_them: bool) -> None:
        """Take back one failure (it was not one), or every failure (a success)."""
        with self._lock:
            count = self._counts.get(key)
            if count is None:
                return
            count.failures = 0 if all_of_them else max(0, count.failures - 1)
            if count.failures == 0:
                del self._counts[key]


class LoginGate:
    """Admission for password checks: the throttles, then a bounded number of checks at once."""

    def __init__(self, slots: int = HASH_SLOTS, queue: int = HASH_QUEUE) -> None:
        self.names = FailureThrottle(NAME_FREE, NAME_MAX_DELAY)
        self.addresses = FailureThrottle(ADDRESS_FREE, ADDRESS_MAX_DELAY)
        self.slots = slots
        self.queue = queue
        self.hashing = anyio.CapacityLimiter(slots)
        self.checking = 0  # checks running or waiting for a slot (only touched on the event loop)

    @contextlib.contextmanager
    def attempt(self, name: str, address: str) -> Iterator[Attempt]:
        """Admit one login attempt (``LoginRefused`` if it must wait). It counts as a failure from
        the start, so a burst of attempts at once is throttled too; ``Attempt.succeeded`` takes
        that back."""
        wait = max(self.names.wait(name), self.addresses.wait(address))
        if wait > 0:
            raise LoginRefused(
                429,
                math.ceil(wait),
                f"Too many failed sign-ins: wait {math.ceil(wait)} seconds and try again.",
            )
        self.names.failed(name)
        self.addresses.failed(address)
        attempt = Attempt(self, name, address)
        try:
            yield attempt
        except LoginRefused:
            attempt.not_counted()  # never checked: not a failure of this user's
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
    gate: LoginGate
    name: str
    address: str

    def succeeded(self) -> None:
        self.gate.names.forgive(self.name, all_of_them=True)
        self.gate.addresses.forgive(self.address, all_of_them=False)

    def not_counted(self) -> None:
        self.gate.names.forgive(self.name, all_of_them=False)
        self.gate.addresses.forgive(self.address, all_of_them=False)
