"""Issue 10 item 13: bad logins can neither exhaust the server's memory nor guess for long.

Real server process on SQLite and PostgreSQL; its memory is read from /proc.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from sync.errors import SyncFailed
from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER
from sync.server.login_limits import ADDRESS_FREE, HASH_QUEUE, HASH_SLOTS, NAME_FREE
from tests.support.sync_support import Backend, Laptop, ServerProcess

MIB = 1024 * 1024
ARGON2_MEMORY = 64 * MIB  # argon2-cffi's default memory cost: what a check of the dummy hash takes


def _login(
    srv: ServerProcess, username: str, password: str, *, source: str = "127.0.0.1", **headers: str
) -> httpx.Response:
    """A login sent from the loopback address ``source`` (any 127.x.y.z reaches the server)."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=120) as http:
        return http.post(
            f"{srv.base}{API}/login",
            json={"username": username, "password": password},
            headers={PROTOCOL_HEADER: str(PROTOCOL), **headers},
        )


def _fail_from_one_address(srv: ServerProcess, tag: str, **how: str) -> None:
    """ADDRESS_FREE failures from one address, spread over names so no single name is held back."""
    names = [f"rep{i}-{tag}" for i in range(-(-ADDRESS_FREE // NAME_FREE))]
    for name in names:
        srv.add_user(name)
    failures = 0
    for name in names:
        for _ in range(min(NAME_FREE, ADDRESS_FREE - failures)):
            assert _login(srv, name, "wrong", **how).status_code == 401
            failures += 1


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
    """48 bad logins at once (from three addresses, each under its own limit): a few checks run
    at a time, so memory stays bounded; those that cannot even wait are answered 503 with
    Retry-After at once."""
    assert server.proc is not None
    pid = server.proc.pid
    _login(server, "warm-up", "x")  # the first request's imports and buffers are not the point
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # peak resident set := current
    before = _memory(pid)["VmRSS"]
    flood = 3 * 16
    start = threading.Barrier(flood)

    def one(i: int) -> httpx.Response:
        start.wait()
        return _login(server, f"nobody-{i}", "guess", source=f"127.0.0.{2 + i % 3}")

    with ThreadPoolExecutor(flood) as pool:
        answers = list(pool.map(one, range(flood)))
    grown = _memory(pid)["VmHWM"] - before
    # Unbounded, 16 checks at once took 16 x 64 MiB; bounded, HASH_SLOTS of them (plus slack).
    assert grown < (HASH_SLOTS + 1) * ARGON2_MEMORY, f"grew by {grown / MIB:.0f} MiB"
    busy = [a for a in answers if a.status_code == 503]
    assert {a.status_code for a in answers} == {401, 503}
    assert len(answers) - len(busy) >= HASH_SLOTS + HASH_QUEUE  # all that could wait were checked
    for a in busy:
        assert a.headers["Retry-After"] == "1" and a.json()["reason"] == "busy"


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
    server.add_user(f"late-{tag}")
    _fail_from_one_address(server, tag)
    wait = _refused(_login(server, f"late-{tag}", "pw"))  # a name never tried, same address
    # Another address is not held back.
    assert _login(server, f"late-{tag}", "pw", source="127.0.0.2").status_code == 200
    time.sleep(wait)
    assert _login(server, f"late-{tag}", "pw").status_code == 200


def test_behind_a_proxy_the_forwarded_address_counts(backend: Backend, tmp_path: Path, tag: str) -> None:
    srv = ServerProcess(
        backend.new_url(), tmp_path / "server.log", extra=("--forwarded-allow-ips", "127.0.0.1")
    )
    srv.start()
    try:
        srv.add_user(f"late-{tag}")
        _fail_from_one_address(srv, tag, **{"X-Forwarded-For": "203.0.113.7"})
        _refused(_login(srv, f"late-{tag}", "pw", **{"X-Forwarded-For": "203.0.113.7"}))
        # Another laptop behind the same proxy signs in.
        assert _login(srv, f"late-{tag}", "pw", **{"X-Forwarded-For": "203.0.113.8"}).status_code == 200
        # From a peer that is not the proxy the header is ignored: its own address counts.
        spoofed = {"X-Forwarded-For": "203.0.113.7"}
        assert _login(srv, f"late-{tag}", "pw", source="127.0.0.3", **spoofed).status_code == 200
    finally:
        srv.stop()
        srv.close_admin()
