"""Issue 15, items 2 and 3: laptops sync through a real HAProxy (deploy/haproxy.cfg, TLS) in
front of three server processes on one real PostgreSQL database, while responses are lost and
the processes are stopped and restarted one at a time (a rolling restart, one of them killed):
every laptop converges, nothing is lost and nothing is duplicated.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync.errors import SyncError
from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER
from sync.server.login_limits import ADDRESS_FREE, NAME_FREE
from tests.support.scale_support import (
    BACK_IN,
    Balancer,
    make_laptop,
    need_haproxy,
    start_servers,
    stop_servers,
)
from tests.support.sync_support import (
    PG_URL,
    REQUIRE_PG,
    FaultyTransport,
    Laptop,
    ServerProcess,
    contact,
    drop_pg_database,
    make_pg_database,
)

ROUNDS = 8
LAPTOPS = 4


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Balancer, list[ServerProcess]]]:
    """One HAProxy and three servers for the module (starting them is most of its time)."""
    haproxy = need_haproxy()
    url = make_pg_database()
    if url is None:
        if REQUIRE_PG:
            pytest.fail(f"RAPPORT_REQUIRE_PG=1 but PostgreSQL at {PG_URL} is not reachable")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} (set RAPPORT_TEST_PG_URL)")
    folder = tmp_path_factory.mktemp("farm")
    # The servers believe X-Forwarded-For from HAProxy's address only (the login limits).
    servers = start_servers(url, folder, 3, extra=("--forwarded-allow-ips", "127.0.0.1"))
    balancer = Balancer(servers, folder, haproxy)
    balancer.start()
    yield balancer, servers
    balancer.stop()
    stop_servers(servers)
    drop_pg_database(url)


def _lossy(seed: int) -> FaultyTransport:
    """The real transport, but about one answer in six is lost after the server committed."""
    rng = random.Random(seed)
    faults = FaultyTransport()

    def maybe_drop(request: httpx.Request) -> None:
        if request.url.path.endswith(("/push", "/pull")) and rng.random() < 1 / 6:
            faults.add(request.url.path, "drop_response")

    faults.every = maybe_drop
    return faults


def _rep(lap: Laptop, seed: int, stop: threading.Event, made: list[str], errors: list[str]) -> None:
    rng = random.Random(seed)
    ids = []
    for i in range(ROUNDS):
        name = f"{lap.username} {i}"
        ids.append(lap.add(contact(name)))
        made.append(name)
        if len(ids) > 1:
            lap.edit("contact", rng.choice(ids[:-1]), role=f"{lap.username} round {i}")
        faults = _lossy(seed * 100 + i)
        try:
            lap.sync(faults, retries=6, backoff=0.2)
        except SyncError as exc:  # the app tries again at the next sync; so does this rep
            errors.append(f"{lap.username}: {exc}")
        finally:
            faults.close()
        time.sleep(rng.uniform(0.1, 0.4))
        if stop.is_set():
            break


def test_laptops_converge_through_haproxy_during_a_rolling_restart(
    farm: tuple[Balancer, list[ServerProcess]], tmp_path: Path
) -> None:
    balancer, servers = farm
    laps = [make_laptop(balancer, tmp_path, f"rep{i}", team=f"team{i % 2}") for i in range(LAPTOPS)]
    made: list[str] = []
    errors: list[str] = []
    stop = threading.Event()
    reps = [
        threading.Thread(target=_rep, args=(lap, i + 1, stop, made, errors), name=f"rep{i}")
        for i, lap in enumerate(laps)
    ]
    for rep in reps:
        rep.start()
    try:
        # The rolling restart: one process at a time, the others serving; the second one dies
        # without a shutdown (SIGKILL), the others are stopped gracefully (SIGTERM).
        for n, srv in enumerate(servers):
            time.sleep(1.0)
            if n == 1:
                srv.kill()
            else:
                srv.stop()
            time.sleep(0.5)
            srv.start(migrate=False)
            time.sleep(BACK_IN)
    finally:
        for rep in reps:
            rep.join(timeout=120)
    assert not any(rep.is_alive() for rep in reps)
    for lap in laps:  # settle: what a sync during the restart could not finish
        lap.sync()
    for lap in laps:
        lap.sync()
        assert lap.outbox() == 0
    for team in (0, 1):
        held = servers[0].snapshot(f"team:team{team}")
        mine = [lap for i, lap in enumerate(laps) if i % 2 == team]
        for lap in mine:
            assert lap.snapshot() == held
        # Every contact made, once: nothing lost, nothing duplicated by a retried push.
        names = sorted(str(v["name"]) for v in held.values())
        assert names == sorted(n for n in made if n.split(" ")[0] in {lap.username for lap in mine})
    assert len(made) == LAPTOPS * ROUNDS
    for lap in laps:
        lap.close()


def _login(balancer: Balancer, source: str, name: str, password: str, spoof: str) -> int:
    """A login through HAProxy from the loopback address ``source``, claiming to be ``spoof``."""
    headers = {PROTOCOL_HEADER: str(PROTOCOL), "X-Forwarded-For": spoof}
    transport = httpx.HTTPTransport(local_address=source, verify=False)
    with httpx.Client(transport=transport, timeout=30) as http:
        body = {"username": name, "password": password}
        return http.post(f"{balancer.base}{API}/login", json=body, headers=headers).status_code


def test_haproxy_passes_the_laptop_address_and_refuses_big_bodies(
    farm: tuple[Balancer, list[ServerProcess]],
) -> None:
    balancer, _ = farm
    with httpx.Client(verify=False, timeout=30) as http:
        # Over the limit by Content-Length: refused by HAProxy before the body travels.
        big = b"x" * (8 * 1024 * 1024 + 1)
        assert http.post(f"{balancer.base}{API}/push", content=big).status_code == 413
    # Every login reaches the servers from HAProxy's address; the address they count failures
    # against is the laptop's, passed by HAProxy, never the one the laptop claims.
    names = [f"guess{i}" for i in range(-(-ADDRESS_FREE // NAME_FREE))]
    for name in [*names, "late"]:
        balancer.add_user(name)
    for n in range(ADDRESS_FREE):
        name = names[n // NAME_FREE]
        assert _login(balancer, "127.0.0.2", name, "wrong", spoof=f"198.51.100.{n}") == 401
    assert _login(balancer, "127.0.0.2", "late", "pw", spoof="198.51.100.99") == 429
    assert _login(balancer, "127.0.0.3", "late", "pw", spoof="127.0.0.2") == 200
