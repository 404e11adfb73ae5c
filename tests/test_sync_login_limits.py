"""Issue 10 item 13: bad logins can neither exhaust the server's memory nor guess for long.

Real server process on SQLite and PostgreSQL; its memory is read from /proc.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from sync.errors import SyncFailed
from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER
from sync.server.login_limits import ADDRESS_FREE, HASH_SLOTS, NAME_FREE
from tests.sync_support import (  # fixtures are imported by name
    Laptop,
    ServerProcess,
    backend,
    laptops,
    server,
    tag,
)

MIB = 1024 * 1024
ARGON2_MEMORY = 64 * MIB  # argon2-cffi's default memory cost: what a check of the dummy hash takes


def _login(srv: ServerProcess, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{srv.base}{API}/login",
        json={"username": username, "password": password},
        headers={PROTOCOL_HEADER: str(PROTOCOL)},
        timeout=120,
    )


def _memory(pid: int) -> dict[str, int]:
    """The process's VmRSS and VmHWM (peak resident set), in bytes."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def _refused(resp: httpx.Response) -> int:
    """The seconds a 429 asks to wait, after checking its shape."""
    assert resp.status_code == 429, resp.text
    assert resp.json()["reason"] == "too_many_attempts"
    wait = int(resp.headers["Retry-After"])
    assert 1 <= wait <= 60
    return wait


def test_concurrent_bad_logins_check_few_passwords_at_once(server: ServerProcess) -> None:
    assert server.proc is not None
    pid = server.proc.pid
    _login(server, "warm-up", "x")  # the first request's imports and buffers are not the point
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # peak resident set := current
    before = _memory(pid)["VmRSS"]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda i: _login(server, f"nobody-{i}", "guess"), range(16)))
    assert [a.status_code for a in answers] == [401] * 16
    grown = _memory(pid)["VmHWM"] - before
    # Unbounded, 16 checks at once took 16 x 64 MiB; bounded, HASH_SLOTS of them (plus slack).
    assert grown < (HASH_SLOTS + 1) * ARGON2_MEMORY, f"grew by {grown / MIB:.0f} MiB"


def test_failures_for_one_name_wait_then_recover(
    server: ServerProcess, laptops: Callable[..., Laptop]
) -> None:
    ann = laptops("ann")
    for _ in range(NAME_FREE):
        assert _login(server, ann.username, "wrong").status_code == 401
    # Refused before any check, even with the right password; the laptop says it in words.
    wait = _refused(_login(server, ann.username, "pw"))
    with pytest.raises(SyncFailed, match="Too many failed sign-ins"):
        ann.login()
    time.sleep(wait)  # a refused attempt does not make the wait longer
    ann.login()
    # The success cleared the name's count: a mistake afterwards is just a mistake.
    assert _login(server, ann.username, "wrong").status_code == 401
    assert _login(server, ann.username, "pw").status_code == 200


def test_failures_from_one_address_wait_then_recover(server: ServerProcess, tag: str) -> None:
    names = [f"rep{i}-{tag}" for i in range(-(-ADDRESS_FREE // NAME_FREE))]
    for name in [*names, f"late-{tag}"]:
        server.add_user(name)
    failures = 0
    for name in names:  # spread over names, so no single name is held back
        for _ in range(min(NAME_FREE, ADDRESS_FREE - failures)):
            assert _login(server, name, "wrong").status_code == 401
            failures += 1
    wait = _refused(_login(server, f"late-{tag}", "pw"))  # a name never tried, same address
    time.sleep(wait)
    assert _login(server, f"late-{tag}", "pw").status_code == 200
