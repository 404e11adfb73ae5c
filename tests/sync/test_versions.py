"""Issue 15, item 5: the server reads the laptop's schema (``X-Rapport-Schema``). During a rolling
upgrade a laptop of an older, still compatible schema keeps syncing; one older than the server
supports is told to update the app (426 ``schema_too_old``), one newer than the server is told
the server is behind (400 ``server_too_old``). Either way its edits stay in its outbox: never
refused one by one. Real server process, real laptops."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

import sync.transport
from models.migrate import head_revision, revisions_oldest_first
from sync.errors import VersionMismatch
from sync.protocol import API, MIN_SCHEMA, PROTOCOL, PROTOCOL_HEADER, SCHEMA_HEADER
from tests.support.sync_support import Laptop, contact


def _as_schema(monkeypatch: pytest.MonkeyPatch, revision: str) -> None:
    """The laptop's app as if its database were at ``revision`` (what its requests say)."""
    monkeypatch.setattr(sync.transport, "head_revision", lambda: revision)


def test_an_older_compatible_laptop_keeps_syncing(
    laptops: Callable[..., Laptop], monkeypatch: pytest.MonkeyPatch
) -> None:
    ann, bob = laptops("ann"), laptops("bob")
    assert head_revision() != MIN_SCHEMA  # there is an older schema the server still serves
    _as_schema(monkeypatch, MIN_SCHEMA)
    cid = ann.add(contact("Made on the previous release"))
    assert ann.sync().pushed == 1
    bob.sync()
    assert bob.get("contact", cid).name == "Made on the previous release"


def test_a_laptop_too_old_is_told_to_update_and_keeps_its_changes(
    laptops: Callable[..., Laptop], monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = laptops("ann")
    ann.sync()
    cid = ann.add(contact("Kept until the update"))
    schemas = revisions_oldest_first()
    older = schemas[schemas.index(MIN_SCHEMA) - 1]
    _as_schema(monkeypatch, older)
    with pytest.raises(VersionMismatch, match=r"too old for the server\. Please update Rapport"):
        ann.sync()
    assert ann.outbox() == 1
    headers = {PROTOCOL_HEADER: str(PROTOCOL), SCHEMA_HEADER: older, "Authorization": f"Bearer {ann.token}"}
    answer = httpx.post(f"{ann.server.base}{API}/pull", json={}, headers=headers)
    assert answer.status_code == 426 and answer.json()["reason"] == "schema_too_old"
    assert "please update the app" in answer.json()["detail"]
    monkeypatch.undo()  # the rep updates the app
    assert ann.sync().pushed == 1 and ann.outbox() == 0
    assert ann.get("contact", cid).name == "Kept until the update"


def test_a_laptop_newer_than_the_server_keeps_its_changes(
    laptops: Callable[..., Laptop], monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = laptops("ann")
    ann.sync()
    ann.add(contact("Waits for the server's update"))
    _as_schema(monkeypatch, "9999_from_a_later_release")
    with pytest.raises(VersionMismatch, match="server is older than this version"):
        ann.sync()
    assert ann.outbox() == 1
    monkeypatch.undo()
    assert ann.sync().pushed == 1
