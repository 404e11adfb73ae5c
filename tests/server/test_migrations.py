"""The server's own migrations: a fresh database reaches head; an s0001 database is upgraded."""

from __future__ import annotations

from pathlib import Path

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
            assert version == "s0005"
            assert conn.exec_driver_sql("SELECT version FROM counter").scalar() == 0
    finally:
        db.close()


def test_the_database_url_counts_before_and_after_the_command(tmp_path: Path) -> None:
    """`--database-url X migrate` and `migrate --database-url X` both act on X, never on the
    data folder's database (the command's own default used to replace the URL given before it)."""
    from sync.server.__main__ import build_parser

    url = f"sqlite:///{tmp_path / 'team.sqlite'}"
    before = build_parser().parse_args(["--database-url", url, "migrate"])
    after = build_parser().parse_args(["migrate", "--database-url", url])
    assert before.database_url == url
    assert after.database_url == url
    assert build_parser().parse_args(["migrate"]).database_url != url
