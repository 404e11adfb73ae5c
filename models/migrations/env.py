"""Alembic environment: always given a live connection by models.migrate."""

from alembic import context

from models.entities import Base

connection = context.config.attributes["connection"]


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Keep autogenerate away from what migrations make by hand (FTS tables, NOCASE and trash
    indexes)."""
    return not (name and ("_fts" in name or name.endswith(("_nocase", "_trash"))))


context.configure(
    connection=connection, target_metadata=Base.metadata, render_as_batch=True, include_object=include_object
)
with context.begin_transaction():
    context.run_migrations()
