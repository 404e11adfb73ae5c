"""Bulk loads suspend the derived-data triggers and rebuild once; a cut-off load is finished
at the next open, so search and "last contact" are never left stale."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert

from models.bulk import bulk_load, suspend_derived
from models.db import Database, open_database
from models.entities import Contact, Note
from models.services import contacts

NOW = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def triggers(db: Database) -> set[str]:
    with db.read_engine.connect() as conn:
        return {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger'")}


def schema(db: Database, kind: str, conn: Connection | None = None) -> dict[str, str | None]:
    """name -> SQL of the schema objects of one kind, seen from ``conn`` (inside a transaction)."""
    sql = "SELECT name, sql FROM sqlite_master WHERE type = ?"
    if conn is not None:
        return {name: text for name, text in conn.exec_driver_sql(sql, (kind,))}
    with db.read_engine.connect() as fresh:
        return {name: text for name, text in fresh.exec_driver_sql(sql, (kind,))}


def rows(cid: uuid.UUID, name: str) -> tuple[dict[str, object], dict[str, object]]:
    base = {"created_at": NOW, "updated_at": NOW}
    contact = {
        **base,
        "id": cid,
        "name": name,
        "kind": "customer",
        "role": "",
        "emails": [],
        "phones": [],
        "address": "",
        "personal_dates": [],
        "preferences": "",
        "needs": "",
        "tags": [],
        "about": "",
    }
    note = {
        **base,
        "id": uuid.uuid4(),
        "occurred_at": NOW,
        "channel": "visit",
        "summary": "Tasting",
        "body": "",
        "contact_id": cid,
    }
    return contact, note


def test_bulk_load_rebuilds_search_and_last_contact_and_puts_the_triggers_back(db: Database) -> None:
    before = triggers(db)
    assert len(before) >= 12
    cid = uuid.uuid4()
    contact, note = rows(cid, "Quentin Bulkload")
    indexes = schema(db, "index")
    with db.write_engine.begin() as conn, bulk_load(conn):
        conn.execute(insert(Contact), [contact])
        conn.execute(insert(Note), [note])
        # Loading without the secondary indexes is the point; unique ones stay (constraints).
        assert "ix_notes_contact_when" not in schema(db, "index", conn)
        assert {n for n, sql in indexes.items() if sql and "UNIQUE" in sql} <= set(schema(db, "index", conn))
    assert triggers(db) == before
    assert schema(db, "index") == indexes
    with db.read() as s:
        (found,) = contacts.list_contacts(s, "bulkl")
        assert found.id == cid and found.last_contact_at == NOW


def test_a_failed_bulk_load_rolls_back_rows_and_trigger_changes(db: Database) -> None:
    before = triggers(db)
    contact, _note = rows(uuid.uuid4(), "Never Saved")
    with pytest.raises(RuntimeError), db.write_engine.begin() as conn, bulk_load(conn):
        conn.execute(insert(Contact), [contact])
        raise RuntimeError("disk went away")
    assert triggers(db) == before
    with db.read() as s:
        assert contacts.count_contacts(s) == 0


def test_a_load_cut_off_half_way_is_finished_at_the_next_open(db_path: Path) -> None:
    db = open_database(db_path)
    before = triggers(db)
    indexes = schema(db, "index")
    cid = uuid.uuid4()
    contact, note = rows(cid, "Halfway Hanna")
    with db.write_engine.begin() as conn:  # the suspension commits on its own (a long sync)
        suspend_derived(conn)
    with db.write_engine.begin() as conn:  # a page arrives; then the process is killed
        conn.execute(insert(Contact), [contact])
        conn.execute(insert(Note), [note])
    assert triggers(db) == set()
    db.close()

    again = open_database(db_path)
    try:
        assert triggers(again) == before
        assert schema(again, "index") == indexes
        with again.read() as s:
            (found,) = contacts.list_contacts(s, "halfway")
            assert found.last_contact_at == NOW
    finally:
        again.close()
