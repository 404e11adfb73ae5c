"""Rows that arrive by sync (a first sync's snapshot, then paged pulls) through a real server
process are found by the search like rows typed on this laptop (issue 13)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from models.entities import Note
from models.services.search import search
from tests.support.sync_support import Laptop, contact


def found(lap: Laptop, text: str, kind: str) -> set[uuid.UUID]:
    with lap.db.read() as s:
        return {hit.id for hit in search(s, text).groups.get(kind, [])}


def test_synced_rows_are_searchable_on_the_other_laptop(laptops: Callable[..., Laptop]) -> None:
    a, b = laptops("ann"), laptops("bob")
    cid = a.add(contact("Zoë Okafor", phones=["+44 20 7946 0958"], emails=["zoe@okafor.example"]))
    a.sync()
    b.sync()  # the first sync: a snapshot, loaded with the triggers off and the indexes rebuilt
    assert found(b, "zoe", "contact") == {cid}
    assert found(b, "02079460958", "contact") == {cid}
    b.sync()  # from here on, paged pulls: the triggers index each row as it is applied
    nid = a.add(Note(summary="Harbour tour", body="She wants the teal brochure", contact_id=cid))
    a.edit("contact", cid, phones=["+44 161 496 0000"])
    a.sync()
    b.sync()
    assert found(b, "teal broch", "note") == {nid}
    assert found(b, "0161 496 0000", "contact") == {cid}
    assert found(b, "02079460958", "contact") == set()
