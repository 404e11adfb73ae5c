"""Alembic, driven from code: the app migrates its own file at start (after a backup)."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from models.paths import migrations_dir


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """What autogenerate compares: not what the migrations write by hand because the metadata
    cannot say it (the FTS5 tables and the shadow tables SQLite keeps behind them, the NOCASE
    expression indexes, the partial trash indexes, the birthdays by day)."""
    return not (name and ("_fts" in name or name.endswith(("_nocase", "_trash", "_byday"))))


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    return cfg


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def known_revisions() -> set[str]:
    return {rev.revision for rev in _script().walk_revisions()}


def revisions_oldest_first() -> list[str]:
    """The laptop's schema revisions in the order they apply (the server ranks a laptop's
    ``X-Rapport-Schema`` by it)."""
    return [rev.revision for rev in reversed(list(_script().walk_revisions()))]


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None
    return head


def upgrade(conn: Connection, target: str = "head") -> None:
    cfg = _config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)
