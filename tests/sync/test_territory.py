"""Territory moves (issue 10, items 9-11): conflict records follow their row, a child follows its
parent's scope when the server applies it, and another team learns nothing about a row id.

Real server process on SQLite and PostgreSQL, real laptops, the server's own admin CLI.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from models.entities import Account, Note
from models.types import utcnow
from sync.conflicts import list_conflicts
from sync.server import tables
from sync.status import list_rejections
from sync.store import K_CLIENT, K_EPOCH, SyncStore
from tests.support.sync_support import Laptop, ServerProcess, admin_cli, contact, raw_post


def _admin_cli(server: ServerProcess, *args: str) -> str:
    return admin_cli(server, *args).stdout


def _conflicts(lap: Laptop) -> dict[uuid.UUID, tuple[Any, Any]]:
    """The laptop's conflict records: row id -> (value kept, value set aside)."""
    with lap.db.read() as s:
        return {r.row_id: (r.kept, r.lost) for r in list_conflicts(s, include_dismissed=True)}


def _make_conflict(first: Laptop, second: Laptop, row: uuid.UUID, field: str) -> None:
    """Both laptops edit ``field`` of ``row`` from the same base: the server keeps the second
    value and records the first as set aside."""
    first.edit("contact", row, **{field: f"{first.username}'s value"})
    second.edit("contact", row, **{field: f"{second.username}'s value"})
    first.sync()
    assert second.sync().conflicts == 1


def _server_scope(server: ServerProcess, entity: str, row_id: uuid.UUID) -> str:
    with server.admin().read() as conn:
        return str(
            conn.scalar(
                select(tables.rows.c.scope).where(
                    tables.rows.c.entity == entity, tables.rows.c.id == str(row_id)
                )
            )
        )


def test_conflict_records_move_with_their_account(laptops: Callable[..., Laptop], tag: str) -> None:
    ann, bob, carl = laptops("ann", "north"), laptops("bob", "north"), laptops("carl", "south")
    acc = ann.add(Account(name="Umbrella"))
    moved = ann.add(contact("Alice", account_id=acc))
    stays = ann.add(contact("Stays north"))
    ann.sync()
    bob.sync()
    _make_conflict(ann, bob, moved, "role")
    _make_conflict(ann, bob, stays, "about")
    ann.sync()
    assert set(_conflicts(ann)) == {moved, stays}
    assert "moved 2 row(s)" in _admin_cli(ann.server, "move-account", str(acc), f"south-{tag}")

    # The old team's laptops drop the moved row's record with the row; the other record stays.
    ann.sync()
    bob.sync()
    for lap in (ann, bob):
        assert lap.get("contact", moved) is None
        assert set(_conflicts(lap)) == {stays}
    fresh_north = laptops("ann", create_user=False)
    fresh_north.sync()
    assert set(_conflicts(fresh_north)) == {stays}  # its values do not reach the old team any more

    # The new team gets it, by the paged pull and by a new laptop's snapshot.
    kept_lost = (f"{bob.username}'s value", f"{ann.username}'s value")
    carl.sync()
    assert _conflicts(carl) == {moved: kept_lost}
    fresh_south = laptops("carl", create_user=False)
    fresh_south.sync()
    assert _conflicts(fresh_south) == {moved: kept_lost}


def test_conflict_records_stay_with_the_team_a_rep_leaves(laptops: Callable[..., Laptop], tag: str) -> None:
    ann, bob = laptops("ann", "north"), laptops("bob", "north")
    carl, dave = laptops("carl", "south"), laptops("dave", "south")
    north = ann.add(contact("North customer"))
    south = carl.add(contact("South customer"))
    ann.sync()
    bob.sync()
    carl.sync()
    dave.sync()
    _make_conflict(ann, bob, north, "role")
    _make_conflict(carl, dave, south, "role")
    ann.sync()
    assert set(_conflicts(ann)) == {north}
    assert "is now in team" in _admin_cli(ann.server, "set-team", ann.username, f"south-{tag}")
    ann.sync()
    assert ann.get("contact", north) is None
    assert _conflicts(ann) == {south: (f"{dave.username}'s value", f"{carl.username}'s value")}
    bob.sync()
    assert set(_conflicts(bob)) == {north}  # the team keeps its own record


def test_note_written_offline_follows_its_moved_contact(laptops: Callable[..., Laptop], tag: str) -> None:
    ann, carl = laptops("ann", "north"), laptops("carl", "south")
    acc = ann.add(Account(name="Umbrella"))
    cid = ann.add(contact("Alice", account_id=acc))
    ann.sync()
    # Written offline, before Ann's laptop hears of the move.
    nid = ann.add(Note(summary="Met at the fair", contact_id=cid, account_id=acc, occurred_at=utcnow()))
    assert "moved 2 row(s)" in _admin_cli(ann.server, "move-account", str(acc), f"south-{tag}")
    summary = ann.sync()
    assert (summary.pushed, summary.rejected) == (1, 0)
    assert _server_scope(ann.server, "note", nid) == f"team:south-{tag}"
    carl.sync()
    assert carl.get("note", nid).summary == "Met at the fair"
    # Ann's laptop is told to drop it with its contact; the old team never sees it.
    assert ann.get("note", nid) is None and ann.get("contact", cid) is None
    with ann.db.read() as s:
        assert list_rejections(s) == []
    fresh_north = laptops("ann", create_user=False)
    fresh_north.sync()
    assert fresh_north.count("note") == 0


def _push(lap: Laptop, mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    store = SyncStore(lap.db)
    try:
        client_id, epoch = store.state(K_CLIENT), store.state(K_EPOCH)
    finally:
        store.close()
    resp = raw_post(lap, "/push", {"client_id": client_id, "epoch": epoch, "mutations": mutations})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["results"])


def _answers(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answers without their mutation ids, which differ by construction."""
    return [{k: v for k, v in r.items() if k != "mid"} for r in results]


def test_another_team_cannot_tell_whether_an_id_exists(laptops: Callable[..., Laptop]) -> None:
    ann, eve = laptops("ann", "north"), laptops("eve", "south")
    live = ann.add(contact("Live", about="confidential"))
    gone = ann.add(contact("Deleted", about="confidential"))
    ann.sync()
    ann.edit("contact", gone, deleted_at=utcnow())
    ann.sync()
    eve.sync()
    unused = uuid.uuid4()
    mid = iter(range(1, 1000))

    def mutation(
        row_id: uuid.UUID, op: str, patch: dict[str, Any], entity: str = "contact"
    ) -> dict[str, Any]:
        return {
            "mid": next(mid),
            "entity": entity,
            "row_id": str(row_id),
            "op": op,
            "patch": patch,
            "base": {},
        }

    # Each refusal reads the same whether the id is another team's live row, another team's
    # deleted row, or no row at all.
    for op, patch in (
        ("create", {"name": 42}),  # a create that fails validation
        ("update", {"about": "pwned"}),
        ("update", {"about": 42}),
        ("delete", {}),
        ("restore", {}),
    ):
        answers = _answers(_push(eve, [mutation(i, op, patch) for i in (live, gone, unused)]))
        assert answers[0] == answers[1] == answers[2], (op, patch, answers)
        assert answers[0]["status"] == "rejected"
    # A valid create of a taken id cannot be applied: refused like any row outside the territory,
    # the same for a live and a deleted row.
    taken = _answers(_push(eve, [mutation(i, "create", {"name": "mine now"}) for i in (live, gone)]))
    assert taken[0] == taken[1] and taken[0]["status"] == "rejected"
    assert "confidential" not in str(taken)

    # A note under another team's contact, live, deleted or unknown: applied alike, in Eve's own
    # territory, no conflict record pointing at the foreign contact.
    notes = {parent: uuid.uuid4() for parent in (live, gone, unused)}
    patch = {"summary": "probe", "channel": "call", "occurred_at": utcnow().isoformat()}
    answers = _answers(
        _push(eve, [mutation(n, "create", {**patch, "contact_id": str(p)}, "note") for p, n in notes.items()])
    )
    assert [a["status"] for a in answers] == ["applied"] * 3
    summary = eve.sync()
    assert summary.conflicts == 0 and eve.table("sync_conflicts") == []
    assert {eve.get("note", n).contact_id for n in notes.values()} == set(notes)
    ann.sync()
    assert ann.count("note") == 0 and ann.table("sync_conflicts") == []
    assert (ann.get("contact", live).about, ann.get("contact", gone).deleted_at is not None) == (
        "confidential",
        True,
    )
