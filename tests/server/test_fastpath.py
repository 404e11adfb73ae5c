"""The server's request path for the sync routes: the fast path (``middleware.FastRoutes``)
answers exactly as the FastAPI routes would, and the driver-level statements (``raw.Raw``) keep
the error answers and survive a lost database connection."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from sync.protocol import API, PROTOCOL, PROTOCOL_HEADER
from tests.support.sync_support import Backend, Laptop, ServerProcess, contact


def _post(lap: Laptop, path: str, body: bytes | dict[str, Any], **headers: str) -> httpx.Response:
    sent = {PROTOCOL_HEADER: str(PROTOCOL), "Authorization": f"Bearer {lap.token}", **headers}
    sent = {k: v for k, v in sent.items() if v}
    if isinstance(body, dict):
        return httpx.post(f"{lap.server.base}{API}{path}", json=body, headers=sent, timeout=30)
    return httpx.post(f"{lap.server.base}{API}{path}", content=body, headers=sent, timeout=30)


def _register(lap: Laptop) -> tuple[str, str]:
    reg = _post(lap, "/register", {"first_mid": 1}).json()
    return reg["client_id"], reg["epoch"]


def _creates(first_mid: int, n: int, team_tag: str) -> list[dict[str, Any]]:
    return [
        {
            "mid": first_mid + i,
            "entity": "contact",
            "row_id": str(uuid.uuid4()),
            "op": "create",
            "patch": {"name": f"Contact {team_tag} {i}", "role": "buyer " * 20},
            "base": {},
        }
        for i in range(n)
    ]


def test_fast_path_answers_like_the_documented_api(laptops: Callable[..., Laptop], tag: str) -> None:
    ann = laptops("ann")
    client_id, epoch = _register(ann)
    push = {"client_id": client_id, "epoch": epoch, "mutations": _creates(1, 20, tag)}

    ok = _post(ann, "/push", push)
    assert ok.status_code == 200 and ok.headers["content-type"] == "application/json"
    assert ok.json()["last_mid"] == 20 and [r["status"] for r in ok.json()["results"]] == ["applied"] * 20

    # The same batch again: the stored results, nothing applied twice.
    again = _post(ann, "/push", push)
    assert again.status_code == 200 and again.json() == ok.json()

    # Handed to FastAPI: no token, another scheme, a body that does not validate.
    for headers in ({"Authorization": ""}, {"Authorization": "Basic YW5uOnB3"}):
        refused = _post(ann, "/push", push, **headers)
        assert refused.status_code == 401
        assert refused.json() == {"detail": "log in first", "reason": "no_token"}
    malformed = _post(ann, "/push", {**push, "mutations": "all of them"})
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["body", "mutations"]  # FastAPI's own shape
    not_json = _post(ann, "/push", b"{not json", **{"Content-Type": "application/json"})
    assert not_json.status_code == 422

    # Answered by the fast path: its errors have the shape of the app's exception handlers.
    forged = _post(ann, "/push", push, Authorization="Bearer not-a-token")
    assert forged.status_code == 401 and forged.json()["reason"] == "bad_token"
    assert forged.headers["www-authenticate"] == "Bearer"
    gap = _post(ann, "/push", {**push, "mutations": _creates(30, 1, tag)})
    assert gap.status_code == 409 and gap.json()["expected_mid"] == 21 and gap.json()["reason"] == "mid_gap"

    # A page over 1 kB is gzipped when the client accepts it, and only then.
    pull = {"client_id": client_id, "cursor": None, "limit": 2000}
    packed = httpx.post(
        f"{ann.server.base}{API}/pull",
        json=pull,
        headers={
            PROTOCOL_HEADER: str(PROTOCOL),
            "Authorization": f"Bearer {ann.token}",
            "Accept-Encoding": "gzip",
        },
        timeout=30,
    )
    assert packed.status_code == 200 and packed.headers["content-encoding"] == "gzip"
    assert len(packed.json()["changes"]) == 20  # httpx inflated it: the bytes were real gzip
    plain = _post(ann, "/pull", pull, **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.json()["changes"] == packed.json()["changes"]

    # A gzipped request body reaches the fast path inflated (BodyLimitMiddleware runs first).
    body = gzip.compress(httpx.Request("POST", "/", json={**push, "mutations": _creates(21, 1, tag)}).content)
    zipped = _post(ann, "/push", body, **{"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert zipped.status_code == 200 and zipped.json()["last_mid"] == 21


def test_big_batches_and_small_ones_give_the_same_answers(laptops: Callable[..., Laptop], tag: str) -> None:
    """Batches over the inline limit run in a worker thread: same results, same stored state."""
    ann = laptops("ann")
    client_id, epoch = _register(ann)
    big = _post(ann, "/push", {"client_id": client_id, "epoch": epoch, "mutations": _creates(1, 120, tag)})
    small = _post(ann, "/push", {"client_id": client_id, "epoch": epoch, "mutations": _creates(121, 3, tag)})
    assert big.status_code == small.status_code == 200
    versions = [r["version"] for r in big.json()["results"] + small.json()["results"]]
    assert versions == sorted(versions) and len(set(versions)) == 123


@pytest.mark.postgres
def test_a_lost_database_connection_is_retried_not_lost(
    backend: Backend, server: ServerProcess, laptops: Callable[..., Laptop]
) -> None:
    """The server does not ping PostgreSQL before each request (a round trip each): a connection
    that died fails one request with 503, the pool drops it, and the laptop's retry succeeds."""
    if backend.kind != "postgres":
        pytest.skip("PostgreSQL only")
    ann = laptops("ann")
    first = ann.add(contact("Ada"))
    assert ann.sync().pushed == 1
    with server.admin().read() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert killed >= 1  # the server's pooled connections
    ann.edit("contact", first, role="buyer")
    second = ann.add(contact("Grace"))
    summary = ann.sync()
    assert summary.pushed == 2 and ann.outbox() == 0
    assert server.rows("team:north-" + ann.username.split("-", 1)[1])[("contact", str(second))] is not None
    log = server.log_path.read_text()
    assert "asking the client to retry" in log  # it was a 503 and a retry, not luck


def test_stored_results_are_pruned_but_a_retry_still_gets_its_own(
    laptops: Callable[..., Laptop], tag: str
) -> None:
    """The results kept for retries stay bounded (``ops.KEEP_RESULTS`` per client), and the last
    batch's are always among them."""
    from sqlalchemy import func, select

    from sync.server import ops, tables

    ann = laptops("ann")
    client_id, epoch = _register(ann)
    mid = 1
    last: dict[str, Any] = {}
    while mid <= ops.KEEP_RESULTS + 600:
        last = {"client_id": client_id, "epoch": epoch, "mutations": _creates(mid, 500, tag)}
        assert _post(ann, "/push", last).status_code == 200
        mid += 500
    with ann.server.admin().read() as conn:
        kept = conn.scalar(
            select(func.count()).select_from(tables.results).where(tables.results.c.client_id == client_id)
        )
        oldest = conn.scalar(
            select(func.min(tables.results.c.mid)).where(tables.results.c.client_id == client_id)
        )
    assert kept is not None and kept <= ops.KEEP_RESULTS + ops.PRUNE_EVERY
    assert oldest is not None and oldest > 1  # pruned
    retry = _post(ann, "/push", last)
    assert retry.status_code == 200
    assert all(r["status"] == "applied" and isinstance(r["version"], int) for r in retry.json()["results"])
