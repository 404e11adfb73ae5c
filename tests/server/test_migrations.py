"""The server's own migrations: a fresh database reaches head; an s0001 database is upgraded."""

from __future__ import annotations

import sqlalchemy as sa

from sync.server.db import ServerDB
from tests.support.sync_support import Backend, as_first_release


def _columns(db: ServerDB, table: str = "clients") -> set[str]:
    return {c["name"] for c in sa.inspect(db.write_engine).get_columns(table)}


def test_fresh_and_upgraded_server_schema(backend: Backend) -> None:
    db = ServerDB(backend.new_url())
    try:
        db.migrate()
        assert "scopes" in _columns(db)
        as_first_release(db)
        assert "scopes" not in _columns(db) and "digest" not in _columns(db, "results")
        db.migrate()
        assert "scopes" in _columns(db) and "digest" in _columns(db, "results")
        assert {"generations", "given_back"} <= set(sa.inspect(db.write_engine).get_table_names())
        with db.read() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM server_schema_version").scalar()
            assert version == "s0004"
            assert conn.exec_driver_sql("SELECT version FROM counter").scalar() == 0
    finally:
        db.close()
